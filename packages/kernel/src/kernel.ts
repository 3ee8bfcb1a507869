import { container as rootContainer, injectable, type DependencyContainer, type InjectionToken } from 'tsyringe';
import { Registry as MetricsRegistry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { diffConfig } from './config/diff.js';
import type { Config, ConfigDiff } from './config/types.js';
import { ErrorCodes, WeirError, messageOf } from './errors.js';
import { Hooks } from './hooks.js';
import { silentLogger, type Logger } from './logger.js';
import { registerPoolMetrics } from './metrics.js';
import { registerCollected } from './collected-metric.js';
import type { PluginContext } from './plugin-context.js';
import { REPORTS } from './reports.js';
import { enabledKeys, pluginSectionValue, validatePluginSections } from './plugin-config.js';
import { indexPlugins, orderPlugins } from './plugin-order.js';
import { PoolPlan } from './reload-plan.js';
import { reloadRejected, type ReloadSource } from './reload-errors.js';
import type { PluginClass, PluginDescriptor, WeirPlugin } from './plugin-types.js';
import { PoolRegistry, logRetired } from './registry.js';
import { TOKENS, type ConfigRef, type PoolFactory } from './tokens.js';
import type { PoolSpec } from './types.js';

export interface KernelOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  plugins?: PluginClass[];
  poolFactory?: PoolFactory;
}

interface Running {
  readonly cls: PluginClass;
  readonly descriptor: PluginDescriptor;
  readonly instance: WeirPlugin;
  readonly container: DependencyContainer;
  /** what the plugin registered through its context, undone in reverse at dispose */
  readonly undo: Array<() => void>;
}

/** A service a plugin offers through `ctx.provide`. */
interface Service {
  readonly owner: string;
  readonly configKey: string;
  readonly value: unknown;
}

/**
 * Owns the hook table, the pool registry and a tsyringe container. Plugins are resolved in a
 * child container each (TOKENS.PluginConfig = their validated section), set up in dependency
 * order and disposed in reverse.
 */
export class Kernel {
  readonly hooks: Hooks;
  readonly registry: PoolRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly container: DependencyContainer;
  readonly metrics: MetricsRegistry;
  config: Config;

  private readonly plugins: PluginClass[];
  private poolFactory: PoolFactory | undefined;
  private running: Running[] = [];
  private readonly services = new Map<InjectionToken<unknown>, Service>();
  private state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';
  private reloading: Promise<unknown> = Promise.resolve();
  /** Each running plugin's validated section (configKey → value): swapped in by a reload's commit. */
  private readonly sections = new Map<string, unknown>();
  /** While a reload is decided: its config and the sections validated for it. */
  private pending: { readonly config: Config; readonly sections: ReadonlyMap<string, unknown> } | undefined;
  private retiring: Promise<void> = Promise.resolve();

  constructor(opts: KernelOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? silentLogger();
    this.clock = opts.clock ?? systemClock;
    this.plugins = [...(opts.plugins ?? [])];
    this.poolFactory = opts.poolFactory;
    this.hooks = new Hooks(this.logger);
    this.registry = new PoolRegistry(this.hooks, this.clock, this.logger);
    this.metrics = new MetricsRegistry();
    registerPoolMetrics(this.metrics, this.registry);
    indexPlugins(this.plugins);

    const kernel = this;
    const configRef: ConfigRef = {
      get current() {
        return kernel.config;
      },
    };
    const factory: PoolFactory = {
      create: (spec: PoolSpec) => {
        if (this.poolFactory === undefined) {
          throw new WeirError(ErrorCodes.NO_POOL_FACTORY, `no pool factory: the host must call kernel.setPoolFactory() (pool ${spec.key.user}@${spec.key.database})`, {
            pool: `${spec.key.user}@${spec.key.database}`,
          });
        }
        return this.poolFactory.create(spec);
      },
    };
    const c = rootContainer.createChildContainer();
    c.register(TOKENS.Hooks, { useValue: this.hooks });
    c.register(TOKENS.PoolRegistry, { useValue: this.registry });
    c.register(TOKENS.Logger, { useValue: this.logger });
    c.register(TOKENS.Clock, { useValue: this.clock });
    c.register(TOKENS.Config, { useValue: configRef });
    c.register(TOKENS.PoolFactory, { useValue: factory });
    c.register(TOKENS.Kernel, { useValue: this });
    c.register(TOKENS.Metrics, { useValue: this.metrics });
    this.container = c;
  }

  setPoolFactory(f: PoolFactory): void {
    this.poolFactory = f;
  }

  /** The plugin classes this kernel knows. */
  pluginClasses(): readonly PluginClass[] {
    return this.plugins;
  }

  /** Names of the plugins set up, in setup order. */
  startedPlugins(): string[] {
    return this.running.map((r) => r.descriptor.name);
  }

  /** Validate a config's plugin sections against this kernel's plugins (see validatePluginSections). */
  validate(config: Config, file?: string, text?: string): void {
    validatePluginSections(config, this.plugins, file, text);
  }

  /** Resolve enabled plugins, order them by dependsOn, set each up. A failure disposes those already set up. */
  async start(): Promise<void> {
    if (this.state !== 'new') {
      throw new WeirError(ErrorCodes.ALREADY_STARTED, `kernel already ${this.state === 'starting' ? 'starting' : this.state}`, { state: this.state });
    }
    this.state = 'starting';
    try {
      const enabled = enabledKeys(this.config);
      const known = indexPlugins(this.plugins);
      for (const key of enabled) {
        if (!known.has(key)) {
          throw new WeirError(ErrorCodes.PLUGIN_NOT_FOUND, `plugins.${key}: plugin "${key}" is enabled but no such plugin is installed`, {
            plugin: key,
            key: `plugins.${key}`,
          });
        }
      }
      for (const P of orderPlugins(this.plugins, enabled)) await this.startPlugin(P);
      this.state = 'started';
      this.hooks.seal();
      this.logger.info({ plugins: this.startedPlugins() }, 'kernel started');
    } catch (err) {
      await this.disposePlugins();
      this.state = 'stopped';
      throw err;
    }
  }

  /** configKeys `key` depends on, directly or through others. */
  private dependencyKeys(key: string): Set<string> {
    const byKey = new Map(this.plugins.map((P) => [P.plugin.configKey, P] as const));
    const out = new Set<string>();
    const visit = (k: string): void => {
      for (const dep of byKey.get(k)?.plugin.dependsOn ?? []) {
        if (!out.has(dep)) {
          out.add(dep);
          visit(dep);
        }
      }
    };
    visit(key);
    return out;
  }

  private context(P: PluginClass, hooks: Hooks, logger: Logger, undo: Array<() => void>): PluginContext {
    const d = P.plugin;
    const kernel = this;
    const deps = this.dependencyKeys(d.configKey);
    const sectionOf = (config: Config): unknown => {
      const pending = kernel.pending;
      // the reload being decided: validated once, above; switched off in it: the running section (until the next start)
      if (pending !== undefined && pending.config === config) {
        return pending.sections.has(d.configKey) ? pending.sections.get(d.configKey) : kernel.sections.get(d.configKey);
      }
      return pluginSectionValue(P, config.plugins[d.configKey], config.file);
    };
    return {
      name: d.name,
      get config() {
        return kernel.sections.get(d.configKey);
      },
      sectionOf,
      hooks,
      provide: (token, value) => {
        const other = this.services.get(token);
        if (other !== undefined || this.container.isRegistered(token, true)) {
          throw new WeirError(ErrorCodes.SERVICE_DUPLICATE,
            `plugin ${d.name}: cannot provide ${String(token)}: already provided by ${other?.owner ?? 'the kernel or the host'}`,
            { plugin: d.name, token: String(token) });
        }
        this.services.set(token, { owner: d.name, configKey: d.configKey, value });
        undo.push(() => this.services.delete(token));
      },
      use: <T>(token: InjectionToken<T>): T | undefined => {
        const s = this.services.get(token);
        if (s !== undefined) return deps.has(s.configKey) || s.configKey === d.configKey ? (s.value as T) : undefined;
        return this.container.isRegistered(token, true) ? this.container.resolve(token) : undefined;
      },
      report: (name, source) => {
        if (this.container.isRegistered(REPORTS, true)) undo.push(this.container.resolve(REPORTS).register(name, source, d.name));
      },
      metric: (name, help, type, values) => {
        undo.push(registerCollected(this.metrics, name, help, type, values));
      },
      metrics: this.metrics,
      logger,
      clock: this.clock,
      registry: this.registry,
      poolFactory: this.container.resolve(TOKENS.PoolFactory),
      runningConfig: this.container.resolve(TOKENS.Config),
    };
  }

  private async startPlugin(P: PluginClass): Promise<void> {
    const d = P.plugin;
    const cfg = pluginSectionValue(P, this.config.plugins[d.configKey], this.config.file);
    const child = this.container.createChildContainer();
    const hooks = this.hooks.forPlugin(d.name);
    const logger = this.logger.child({ plugin: d.name });
    const undo: Array<() => void> = [];
    this.sections.set(d.configKey, cfg);
    child.register(TOKENS.PluginConfig, { useValue: cfg });
    child.register(TOKENS.Hooks, { useValue: hooks });
    child.register(TOKENS.Logger, { useValue: logger });
    child.register(TOKENS.PluginContext, { useValue: this.context(P, hooks, logger, undo) });
    // the services of the plugins it depends on, for constructor injection
    const deps = this.dependencyKeys(d.configKey);
    for (const [token, s] of this.services) if (deps.has(s.configKey)) child.register(token, { useValue: s.value });
    let instance: WeirPlugin;
    try {
      injectable()(P);
      instance = child.resolve(P);
    } catch (err) {
      throw new WeirError(ErrorCodes.PLUGIN_SETUP_FAILED, `plugin ${d.name}: cannot construct it: ${messageOf(err)}`, { plugin: d.name }, { cause: err });
    }
    try {
      await instance.setup();
    } catch (err) {
      undoAll(undo, this.logger, d.name);
      this.hooks.removeOwner(d.name);
      this.sections.delete(d.configKey);
      throw new WeirError(ErrorCodes.PLUGIN_SETUP_FAILED, `plugin ${d.name}: setup failed: ${messageOf(err)}`, { plugin: d.name }, { cause: err });
    }
    this.running.push({ cls: P, descriptor: d, instance, container: child, undo });
    this.logger.debug({ plugin: d.name }, 'plugin set up');
  }

  /** Resolve a service: one a plugin provided (ctx.provide), a kernel or host token, or one a v1 plugin registered on kernel.container. */
  resolve<T>(token: InjectionToken<T>): T {
    const s = this.services.get(token);
    return s !== undefined ? (s.value as T) : this.container.resolve(token);
  }

  /** Like resolve, for a service that may be absent (a plugin not enabled): undefined then. */
  service<T>(token: InjectionToken<T>): T | undefined {
    const s = this.services.get(token);
    if (s !== undefined) return s.value as T;
    return this.container.isRegistered(token, true) ? this.container.resolve(token) : undefined;
  }

  /**
   * Apply a config the host already validated, in three steps (see docs/plugins.md, Reload):
   * 1. decide: every running plugin's new section, validated once here; the `reload` handlers,
   *    which may refuse (WEIR_E_RELOAD_REJECTED naming the plugin, key path and line — `source.text`
   *    gives the line), draft pool changes on `event.pools` and return their commits; then the
   *    planned pools are built (WEIR_E_RELOAD_BUILD_FAILED). A failure here changes nothing.
   * 2. commit, in one step: the running config, the plugins' sections, the registry swap, the commits.
   * 3. retire the pools that left the registry; each outcome is logged (`retired()` waits for them).
   */
  reload(next: Config, source?: ReloadSource): Promise<ConfigDiff> {
    const run = this.reloading.then(() => this.reloadNow(next, source));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the pools the last reload retired are closed (their outcomes logged). */
  retired(): Promise<void> {
    return this.retiring;
  }

  private async reloadNow(next: Config, source?: ReloadSource): Promise<ConfigDiff> {
    const previous = this.config;
    const diff = diffConfig(previous, next);
    const before = enabledKeys(previous);
    const after = enabledKeys(next);
    const toggled = [...new Set([...before, ...after])].filter((k) => before.has(k) !== after.has(k));
    if (toggled.length > 0) {
      this.logger.warn({ plugins: toggled }, 'plugins switched on or off take effect at the next start');
    }
    // 1. decide. A failure is the caller's to log (one line per reload: the proxy's 'RELOAD failed').
    const sections = new Map<string, unknown>();
    for (const r of this.running) {
      const key = r.descriptor.configKey;
      // switched off (or gone) in the new file: it runs on with its last section until the next start
      if (after.has(key)) sections.set(key, pluginSectionValue(r.cls, next.plugins[key], source?.file ?? next.file, source?.text));
    }
    const pools = new PoolPlan(this.registry.snapshot());
    let commits: Array<{ owner: string; commit: () => void }>;
    this.pending = { config: next, sections };
    try {
      commits = await this.hooks.runReload({ previous, next, diff, pools });
    } catch (err) {
      throw reloadRejected(err, this.running.map((r) => r.descriptor), next, source);
    } finally {
      this.pending = undefined;
    }
    const built = pools.build();
    // 2. commit
    this.config = next;
    for (const [key, value] of sections) this.sections.set(key, value);
    const left = this.registry.replace(built.entries(this.registry.snapshot()));
    for (const { owner, commit } of commits) {
      try {
        commit();
      } catch (err) {
        this.logger.error({ err, plugin: owner, code: ErrorCodes.RELOAD_COMMIT_FAILED }, `reload commit of ${owner} failed (the new config stays): ${messageOf(err)}`);
      }
    }
    this.logger.info({ changed: diff.changed.length, poolsAdded: diff.poolsAdded, poolsRemoved: diff.poolsRemoved, poolsChanged: diff.poolsChanged }, 'config reloaded');
    // 3. retire
    const retiring = this.registry.retireAll(left, (e) => built.reason(e)).then((outcomes) => logRetired(this.logger, outcomes));
    this.retiring = Promise.all([this.retiring, retiring]).then(() => undefined);
    return diff;
  }

  /** Dispose plugins in reverse setup order (errors logged), then close every pool. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    await this.disposePlugins();
    await this.registry.closeAll();
    this.state = 'stopped';
  }

  private async disposePlugins(): Promise<void> {
    for (let i = this.running.length - 1; i >= 0; i--) {
      const r = this.running[i]!;
      try {
        await r.instance.dispose?.();
      } catch (err) {
        this.logger.error({ err, plugin: r.descriptor.name }, `plugin ${r.descriptor.name}: dispose failed`);
      }
      undoAll(r.undo, this.logger, r.descriptor.name);
      this.hooks.removeOwner(r.descriptor.name);
    }
    this.running = [];
    this.sections.clear();
  }
}

/** Undo a plugin's context registrations, last first; a failure is logged and the rest still run. */
function undoAll(undo: Array<() => void>, logger: Logger, plugin: string): void {
  for (let i = undo.length - 1; i >= 0; i--) {
    try {
      undo[i]!();
    } catch (err) {
      logger.error({ err, plugin }, `plugin ${plugin}: cleanup failed`);
    }
  }
  undo.length = 0;
}
