import { container as rootContainer, injectable, type DependencyContainer, type InjectionToken } from 'tsyringe';
import { Registry as MetricsRegistry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { diffConfig } from './config/diff.js';
import type { Config, ConfigDiff } from './config/types.js';
import { ErrorCodes, WeirError, messageOf } from './errors.js';
import { Hooks } from './hooks.js';
import { silentLogger, type Logger } from './logger.js';
import { registerPoolMetrics } from './metrics.js';
import { enabledKeys, pluginSectionValue, validatePluginSections } from './plugin-config.js';
import { indexPlugins, orderPlugins } from './plugin-order.js';
import type { PluginClass, PluginDescriptor, WeirPlugin } from './plugin-types.js';
import { PoolRegistry } from './registry.js';
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
  readonly descriptor: PluginDescriptor;
  readonly instance: WeirPlugin;
  readonly container: DependencyContainer;
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
  private state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(opts: KernelOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? silentLogger();
    this.clock = opts.clock ?? systemClock;
    this.plugins = [...(opts.plugins ?? [])];
    this.poolFactory = opts.poolFactory;
    this.hooks = new Hooks(this.logger);
    this.registry = new PoolRegistry(this.hooks, this.clock);
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

  private async startPlugin(P: PluginClass): Promise<void> {
    const d = P.plugin;
    const cfg = pluginSectionValue(P, this.config.plugins[d.configKey], this.config.file);
    const child = this.container.createChildContainer();
    child.register(TOKENS.PluginConfig, { useValue: cfg });
    child.register(TOKENS.Hooks, { useValue: this.hooks.withOwner(d.name) });
    child.register(TOKENS.Logger, { useValue: this.logger.child({ plugin: d.name }) });
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
      this.hooks.removeOwner(d.name);
      throw new WeirError(ErrorCodes.PLUGIN_SETUP_FAILED, `plugin ${d.name}: setup failed: ${messageOf(err)}`, { plugin: d.name }, { cause: err });
    }
    this.running.push({ descriptor: d, instance, container: child });
    this.logger.debug({ plugin: d.name }, 'plugin set up');
  }

  /** Resolve a service: a kernel token or one a plugin registered on kernel.container. */
  resolve<T>(token: InjectionToken<T>): T {
    return this.container.resolve(token);
  }

  /**
   * Apply a config the host already validated: diff it against the running one, run the
   * `reload` hook, and only if every handler succeeded make it the running config.
   * A failing handler rejects with WEIR_E_HOOK_FAILED naming the plugin; the config stays.
   */
  reload(next: Config): Promise<ConfigDiff> {
    const run = this.reloading.then(() => this.reloadNow(next));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(next: Config): Promise<ConfigDiff> {
    const previous = this.config;
    const diff = diffConfig(previous, next);
    const before = enabledKeys(previous);
    const after = enabledKeys(next);
    const toggled = [...new Set([...before, ...after])].filter((k) => before.has(k) !== after.has(k));
    if (toggled.length > 0) {
      this.logger.warn({ plugins: toggled }, 'plugins switched on or off take effect at the next start');
    }
    // A failure is the caller's to log (one line per reload: the proxy's 'RELOAD failed').
    await this.hooks.runReload({ previous, next, diff });
    this.config = next;
    this.logger.info({ changed: diff.changed.length, poolsAdded: diff.poolsAdded, poolsRemoved: diff.poolsRemoved, poolsChanged: diff.poolsChanged }, 'config reloaded');
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
      this.hooks.removeOwner(r.descriptor.name);
    }
    this.running = [];
  }
}
