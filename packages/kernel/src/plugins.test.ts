import { inject, injectable } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeClock } from './clock.js';
import { parseConfig } from './config/parse.js';
import { baseConfigSchema } from './config/schema.js';
import type { Config } from './config/types.js';
import { Hooks } from './hooks.js';
import { Kernel } from './kernel.js';
import type { Logger } from './logger.js';
import { validatePluginSections } from './plugin-config.js';
import { orderPlugins } from './plugin-order.js';
import type { PluginClass, PluginDescriptor, WeirPlugin } from './plugin-types.js';
import type { PluginContext } from './plugin-context.js';
import { REPORTS, Reports } from './reports.js';
import { PoolRegistry } from './registry.js';
import { TOKENS, createToken, type ConfigRef } from './tokens.js';
import { duration } from './config/duration.js';
import { KERNEL_VERSION, satisfiesRange } from './version.js';

/** A plugin class that logs setup/dispose into `log`. */
function plugin(configKey: string, log: string[], extra: Partial<PluginDescriptor> = {}): PluginClass {
  return class implements WeirPlugin {
    static readonly plugin: PluginDescriptor = { name: `p-${configKey}`, configKey, configSchema: z.strictObject({}), ...extra };
    setup(): void {
      log.push(`setup ${configKey}`);
    }
    dispose(): void {
      log.push(`dispose ${configKey}`);
    }
  };
}

function config(plugins: Record<string, object> = {}, pools: Record<string, object> = {}): Config {
  const cfg = parseConfig('', baseConfigSchema);
  cfg.plugins = Object.fromEntries(Object.entries(plugins).map(([k, v]) => [k, { enabled: true, ...v }]));
  cfg.pools = pools;
  return cfg;
}

async function startError(kernel: Kernel): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await kernel.start();
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('start() should have failed');
}

describe('plugin order', () => {
  it('sets plugins up in dependsOn order and disposes them in reverse', async () => {
    const log: string[] = [];
    const plugins = [
      plugin('gc', log, { dependsOn: ['dyn'] }),
      plugin('dyn', log, { dependsOn: ['auth'] }),
      plugin('stmts', log),
      plugin('auth', log),
    ];
    const kernel = new Kernel({ config: config({ gc: {}, dyn: {}, stmts: {}, auth: {} }), plugins });
    await kernel.start();
    expect(log).toEqual(['setup auth', 'setup dyn', 'setup gc', 'setup stmts']);
    expect(kernel.startedPlugins()).toEqual(['p-auth', 'p-dyn', 'p-gc', 'p-stmts']);
    log.length = 0;
    await kernel.stop();
    expect(log).toEqual(['dispose stmts', 'dispose gc', 'dispose dyn', 'dispose auth']);
  });

  it('starts only enabled plugins', async () => {
    const log: string[] = [];
    const kernel = new Kernel({ config: config({ a: {}, b: { enabled: false } }), plugins: [plugin('a', log), plugin('b', log), plugin('c', log)] });
    await kernel.start();
    expect(log).toEqual(['setup a']);
  });

  it('a cycle is WEIR_E_PLUGIN_CYCLE naming it', () => {
    const log: string[] = [];
    const plugins = [plugin('a', log, { dependsOn: ['b'] }), plugin('b', log, { dependsOn: ['c'] }), plugin('c', log, { dependsOn: ['a'] })];
    expect(() => orderPlugins(plugins, new Set(['a', 'b', 'c']))).toThrow(
      expect.objectContaining({ code: 'WEIR_E_PLUGIN_CYCLE', message: 'plugin dependency cycle: a -> b -> c -> a' }),
    );
  });

  it('an unknown dependency is WEIR_E_PLUGIN_UNKNOWN_DEPENDENCY naming both', async () => {
    const kernel = new Kernel({ config: config({ a: {} }), plugins: [plugin('a', [], { dependsOn: ['nope'] })] });
    const err = await startError(kernel);
    expect(err.code).toBe('WEIR_E_PLUGIN_UNKNOWN_DEPENDENCY');
    expect(err.details).toEqual({ plugin: 'p-a', dependency: 'nope' });
  });

  it('a disabled dependency is an error too', async () => {
    const kernel = new Kernel({ config: config({ a: {} }), plugins: [plugin('a', [], { dependsOn: ['b'] }), plugin('b', [])] });
    expect((await startError(kernel)).code).toBe('WEIR_E_PLUGIN_DEPENDENCY_DISABLED');
  });

  it('a plugin enabled in config but not installed is WEIR_E_PLUGIN_NOT_FOUND', async () => {
    const kernel = new Kernel({ config: config({ ghost: {} }), plugins: [] });
    const err = await startError(kernel);
    expect(err.code).toBe('WEIR_E_PLUGIN_NOT_FOUND');
    expect(err.message).toContain('plugins.ghost');
  });

  it('a plugin whose kernel range this kernel does not satisfy is refused at registration, whoever registers it', () => {
    const old = plugin('old', [], { kernel: '^9.0.0' });
    expect(() => new Kernel({ config: config(), plugins: [old] })).toThrow(expect.objectContaining({
      code: 'WEIR_E_PLUGIN_KERNEL_VERSION', message: expect.stringMatching(/p-old \(plugins\.old\) supports @weir\/kernel \^9\.0\.0, this is 0\./),
    }));
    const fine = plugin('fine', [], { kernel: `^${KERNEL_VERSION}` });
    expect(() => new Kernel({ config: config(), plugins: [fine] })).not.toThrow();
  });

  it('kernel ranges: ^, ~, >=, exact, *', () => {
    expect(satisfiesRange('0.1.3', '^0.1.0')).toBe(true);
    expect(satisfiesRange('0.2.0', '^0.1.0')).toBe(false);
    expect(satisfiesRange('1.4.0', '^1.2.0')).toBe(true);
    expect(satisfiesRange('2.0.0', '^1.2.0')).toBe(false);
    expect(satisfiesRange('1.2.9', '~1.2.0')).toBe(true);
    expect(satisfiesRange('1.3.0', '~1.2.0')).toBe(false);
    expect(satisfiesRange('3.0.0', '>=1.2.0')).toBe(true);
    expect(satisfiesRange('1.2.3', '1.2.3')).toBe(true);
    expect(satisfiesRange('1.2.4', '1.2.3')).toBe(false);
    expect(satisfiesRange('9.9.9', '*')).toBe(true);
    expect(satisfiesRange('1.0.0', 'latest')).toBe(false);
  });

  it('two plugins with one configKey or name are WEIR_E_PLUGIN_DUPLICATE', () => {
    expect(() => new Kernel({ config: config(), plugins: [plugin('a', []), plugin('a', [])] })).toThrow(expect.objectContaining({ code: 'WEIR_E_PLUGIN_DUPLICATE' }));
  });

  it('a class without a descriptor is WEIR_E_PLUGIN_INVALID', () => {
    class NotAPlugin {
      setup(): void {}
    }
    expect(() => new Kernel({ config: config(), plugins: [NotAPlugin as unknown as PluginClass] })).toThrow(
      expect.objectContaining({ code: 'WEIR_E_PLUGIN_INVALID', message: expect.stringContaining('NotAPlugin') }),
    );
  });

  it('start twice is WEIR_E_ALREADY_STARTED', async () => {
    const kernel = new Kernel({ config: config() });
    await kernel.start();
    expect((await startError(kernel)).code).toBe('WEIR_E_ALREADY_STARTED');
  });

  it('a failing setup names the plugin and disposes those already set up, in reverse', async () => {
    const log: string[] = [];
    class Broken implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: '@acme/broken', configKey: 'broken', configSchema: z.object({}), dependsOn: ['a', 'b'] };
      setup(): void {
        throw new Error('no database');
      }
    }
    const kernel = new Kernel({ config: config({ a: {}, b: {}, broken: {} }), plugins: [plugin('a', log), plugin('b', log), Broken] });
    const err = await startError(kernel);
    expect(err.code).toBe('WEIR_E_PLUGIN_SETUP_FAILED');
    expect(err.details).toEqual({ plugin: '@acme/broken' });
    expect(err.message).toContain('no database');
    expect(log).toEqual(['setup a', 'setup b', 'dispose b', 'dispose a']);
  });
});

describe('plugin config sections', () => {
  const aqSchema = z.strictObject({ cache_ttl: duration.default(3_600_000) });
  const poolSection = z.strictObject({ query: z.string() });
  class AuthQuery implements WeirPlugin {
    static readonly plugin: PluginDescriptor = {
      name: '@weir/plugin-auth-query',
      configKey: 'auth_query',
      configSchema: aqSchema,
      poolSectionKey: 'auth_query',
      poolSectionSchema: poolSection,
    };
    setup(): void {}
  }

  const text = `plugins:
  auth_query:
    enabled: false
    cache_ttl: 1h
pools:
  appdb:
    auth_query:
      query: SELECT 1
`;

  it('a section of a disabled plugin is WEIR_E_PLUGIN_DISABLED_CONFIG with file and line', () => {
    const cfg = parseConfig(text, baseConfigSchema, 'weir.yaml');
    expect(() => validatePluginSections(cfg, [AuthQuery], 'weir.yaml', text)).toThrow(
      expect.objectContaining({ code: 'WEIR_E_PLUGIN_DISABLED_CONFIG', message: expect.stringMatching(/^weir\.yaml:2: plugins\.auth_query: settings for plugin @weir\/plugin-auth-query, which is disabled/) }),
    );
  });

  it('a per-pool section of a disabled plugin is WEIR_E_PLUGIN_DISABLED_CONFIG naming the pool key', () => {
    const t = text.replace('    cache_ttl: 1h\n', '');
    const cfg = parseConfig(t, baseConfigSchema, 'weir.yaml');
    expect(() => validatePluginSections(cfg, [AuthQuery], 'weir.yaml', t)).toThrow(
      expect.objectContaining({ code: 'WEIR_E_PLUGIN_DISABLED_CONFIG', message: expect.stringMatching(/^weir\.yaml:6: pools\.appdb\.auth_query: /) }),
    );
  });

  it('a section of an unknown plugin is an error; `enabled: false` alone is fine', () => {
    const cfg = config();
    cfg.plugins.mystery = { enabled: false, knob: 1 };
    expect(() => validatePluginSections(cfg, [])).toThrow(expect.objectContaining({ code: 'WEIR_E_PLUGIN_DISABLED_CONFIG', message: expect.stringContaining('unknown plugin "mystery"') }));
    cfg.plugins.mystery = { enabled: false };
    expect(() => validatePluginSections(cfg, [])).not.toThrow();
  });

  it('validates enabled sections with the plugin schema, naming line and key path', () => {
    const t = text.replace('enabled: false', 'enabled: true').replace('cache_ttl: 1h', 'cache_ttl: forever');
    const cfg = parseConfig(t, baseConfigSchema, 'weir.yaml');
    expect(() => validatePluginSections(cfg, [AuthQuery], 'weir.yaml', t)).toThrow(
      expect.objectContaining({ code: 'WEIR_E_CONFIG_INVALID', message: expect.stringMatching(/^weir\.yaml:4: plugins\.auth_query\.cache_ttl: expected a duration/) }),
    );
    const t2 = text.replace('enabled: false', 'enabled: true').replace('query: SELECT 1', 'qurey: SELECT 1');
    const cfg2 = parseConfig(t2, baseConfigSchema, 'weir.yaml');
    expect(() => validatePluginSections(cfg2, [AuthQuery], 'weir.yaml', t2)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('weir.yaml:8: pools.appdb.auth_query.qurey: unknown key') }),
    );
  });

  it('replaces valid sections by their parsed form', () => {
    const t = text.replace('enabled: false', 'enabled: true');
    const cfg = parseConfig(t, baseConfigSchema, 'weir.yaml');
    validatePluginSections(cfg, [AuthQuery], 'weir.yaml', t);
    expect(cfg.plugins.auth_query).toEqual({ enabled: true, cache_ttl: 3_600_000 });
    expect(cfg.pools.appdb.auth_query).toEqual({ query: 'SELECT 1' });
  });
});

describe('dependency injection', () => {
  interface Counter {
    hits: number;
  }
  const COUNTER = createToken<Counter>('test.Counter');

  it('injects kernel services, the plugin section, and a service another plugin exports', async () => {
    const seen: Record<string, unknown> = {};

    @injectable()
    class Exporter implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: 'exporter', configKey: 'exporter', configSchema: z.strictObject({ start: z.number().default(0) }) };
      constructor(
        @inject(TOKENS.Kernel) private readonly kernel: Kernel,
        @inject(TOKENS.PluginConfig) private readonly cfg: { start: number },
      ) {}
      setup(): void {
        this.kernel.container.register(COUNTER, { useValue: { hits: this.cfg.start } });
      }
    }

    @injectable()
    class Consumer implements WeirPlugin {
      static readonly plugin: PluginDescriptor = {
        name: 'consumer',
        configKey: 'consumer',
        configSchema: z.strictObject({ interval: duration }),
        dependsOn: ['exporter'],
      };
      constructor(
        @inject(COUNTER) private readonly counter: Counter,
        @inject(TOKENS.Hooks) private readonly hooks: Hooks,
        @inject(TOKENS.PoolRegistry) readonly registry: PoolRegistry,
        @inject(TOKENS.Logger) readonly logger: Logger,
        @inject(TOKENS.Clock) readonly clock: FakeClock,
        @inject(TOKENS.Config) readonly config: ConfigRef,
        @inject(TOKENS.PluginConfig) readonly cfg: { interval: number },
      ) {}
      setup(): void {
        this.counter.hits++;
        Object.assign(seen, { registry: this.registry, clock: this.clock, config: this.config, cfg: this.cfg, logger: this.logger });
        this.hooks.on('reload', () => {
          throw new Error('cannot reload');
        });
      }
    }

    const clock = new FakeClock(5);
    const cfg = config({ exporter: { start: 40 }, consumer: { interval: '30s' } });
    const kernel = new Kernel({ config: cfg, clock, plugins: [Consumer, Exporter] });
    await kernel.start();
    expect(kernel.resolve(COUNTER).hits).toBe(41);
    expect(seen.registry).toBe(kernel.registry);
    expect(seen.clock).toBe(clock);
    expect(seen.cfg).toEqual({ interval: 30_000 });
    expect((seen.config as ConfigRef).current).toBe(cfg);
    expect(typeof (seen.logger as Logger).info).toBe('function');
    // the injected Hooks is scoped to the plugin: its errors name it
    await expect(kernel.reload(config({ exporter: { start: 40 }, consumer: { interval: '31s' } }))).rejects.toMatchObject({
      code: 'WEIR_E_RELOAD_REJECTED',
      details: { plugin: 'consumer', hook: 'reload', key: 'plugins.consumer' },
    });
  });

  it('plugins decorated only with @inject are resolved too', async () => {
    let got: unknown;
    class Plain implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: 'plain', configKey: 'plain', configSchema: z.object({}) };
      constructor(@inject(TOKENS.Hooks) hooks: Hooks) {
        got = hooks;
      }
      setup(): void {}
    }
    const kernel = new Kernel({ config: config({ plain: {} }), plugins: [Plain] });
    await kernel.start();
    expect(got).toBeInstanceOf(Hooks);
  });

  it('a plugin constructor that cannot be resolved names the plugin', async () => {
    class Needy implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: 'needy', configKey: 'needy', configSchema: z.object({}) };
      constructor(@inject(createToken('missing.Service')) readonly svc: unknown) {}
      setup(): void {}
    }
    const err = await startError(new Kernel({ config: config({ needy: {} }), plugins: [Needy] }));
    expect(err.code).toBe('WEIR_E_PLUGIN_SETUP_FAILED');
    expect(err.details).toEqual({ plugin: 'needy' });
  });

  it('two kernels do not share registrations', async () => {
    const A = createToken<string>('test.A');
    const k1 = new Kernel({ config: config() });
    const k2 = new Kernel({ config: config() });
    k1.container.register(A, { useValue: 'one' });
    expect(k1.resolve(A)).toBe('one');
    expect(k2.container.isRegistered(A, true)).toBe(false);
    expect(k1.resolve(TOKENS.Kernel)).toBe(k1);
    expect(k2.resolve(TOKENS.Kernel)).toBe(k2);
  });
});

describe('Kernel.reload', () => {
  it('runs the reload hook with old, new and diff, then swaps the config', async () => {
    const previous = config({}, { a: { size: 1 } });
    const next = config({}, { a: { size: 2 }, b: {} });
    const kernel = new Kernel({ config: previous });
    const events: unknown[] = [];
    kernel.hooks.on('reload', async (e) => {
      events.push({ previous: e.previous, next: e.next, diff: e.diff, current: kernel.config });
    }, 'observer');
    await kernel.start();
    const diff = await kernel.reload(next);
    expect(diff).toEqual({ changed: ['pools.a.size', 'pools.b'], poolsAdded: ['b'], poolsRemoved: [], poolsChanged: ['a'] });
    expect(events).toEqual([{ previous, next, diff, current: previous }]);
    expect(kernel.config).toBe(next);
    expect(kernel.resolve(TOKENS.Config).current).toBe(next);
  });

  it('keeps the running config when a handler throws, and names the plugin', async () => {
    const previous = config();
    const kernel = new Kernel({ config: previous });
    kernel.hooks.on('reload', () => {
      throw new Error('nope');
    }, '@weir/plugin-idle-gc');
    await expect(kernel.reload(config({}, { x: {} }))).rejects.toMatchObject({ code: 'WEIR_E_RELOAD_REJECTED', details: { plugin: '@weir/plugin-idle-gc' } });
    expect(kernel.config).toBe(previous);
  });

  it('applies reloads one at a time, in order', async () => {
    const kernel = new Kernel({ config: config({}, { v: { n: 0 } }) });
    const seen: number[] = [];
    kernel.hooks.on('reload', async (e) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(e.previous.pools.v.n, e.next.pools.v.n);
    });
    await Promise.all([kernel.reload(config({}, { v: { n: 1 } })), kernel.reload(config({}, { v: { n: 2 } }))]);
    expect(seen).toEqual([0, 1, 1, 2]);
    expect(kernel.config.pools.v.n).toBe(2);
  });

  it('stop removes plugin handlers and closes every pool', async () => {
    const log: string[] = [];
    class Hooker implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: 'hooker', configKey: 'hooker', configSchema: z.object({}) };
      constructor(@inject(TOKENS.Hooks) private readonly hooks: Hooks) {}
      setup(): void {
        this.hooks.on('checkout', () => void log.push('checkout'));
      }
    }
    const kernel = new Kernel({ config: config({ hooker: {} }), plugins: [Hooker] });
    await kernel.start();
    expect(kernel.hooks.has('checkout')).toBe(true);
    await kernel.stop();
    expect(kernel.hooks.has('checkout')).toBe(false);
    await kernel.stop();
  });

  it('the pool factory token delegates to the host factory, or says none is set', async () => {
    const kernel = new Kernel({ config: config() });
    const factory = kernel.resolve(TOKENS.PoolFactory);
    const spec = { key: { database: 'd', user: 'u' }, kind: 'dynamic' as const, options: { max: 1, acquireTimeoutMs: 0 }, target: {} };
    expect(() => factory.create(spec)).toThrow(expect.objectContaining({ code: 'WEIR_E_NO_POOL_FACTORY' }));
    const made: unknown[] = [];
    kernel.setPoolFactory({ create: (s) => (made.push(s), {} as never) });
    factory.create(spec);
    expect(made).toEqual([spec]);
  });

  it('seals the hook table at start: a plugin or host registering later gets WEIR_E_HOOK_LATE, hooks.late() may', async () => {
    let pluginHooks: Hooks | undefined;
    class Keeper implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: 'keeper', configKey: 'keeper', configSchema: z.object({}) };
      constructor(@inject(TOKENS.Hooks) hooks: Hooks) {
        pluginHooks = hooks;
      }
      setup(): void {}
    }
    const kernel = new Kernel({ config: config({ keeper: {} }), plugins: [Keeper] });
    kernel.hooks.on('checkout', () => undefined, 'host-before-start');
    await kernel.start();
    expect(() => pluginHooks!.on('release', () => undefined)).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_LATE', details: { hook: 'release', plugin: 'keeper' } }));
    expect(() => kernel.hooks.on('release', () => undefined, 'host')).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_LATE' }));
    kernel.hooks.withOwner('host').late().on('release', () => undefined);
    expect(kernel.hooks.has('release')).toBe(true);
    // late binding is the hosts': a plugin's view refuses it
    expect(() => pluginHooks!.late()).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_LATE', details: { plugin: 'keeper' } }));
    expect(() => pluginHooks!.withOwner('other').seal()).toThrow(expect.objectContaining({ code: 'WEIR_E_HOOK_LATE' }));
    await kernel.stop();
  });

  it('host and plugin handlers run in the documented order: pre (host), plugins in setup order, host unordered, late post', async () => {
    const log: string[] = [];
    function hooker(key: string, dependsOn: string[] = []): PluginClass {
      class Hooker implements WeirPlugin {
        static readonly plugin: PluginDescriptor = { name: key, configKey: key, configSchema: z.object({}), dependsOn };
        constructor(@inject(TOKENS.Hooks) private readonly hooks: Hooks) {}
        setup(): void {
          this.hooks.on('reload', () => void log.push(key));
        }
      }
      return Hooker;
    }
    // b depends on a: set up (and so run) after a, though listed first
    const kernel = new Kernel({ config: config({ a: {}, b: {} }), plugins: [hooker('b', ['a']), hooker('a')] });
    const host = kernel.hooks.withOwner('host');
    host.on('reload', () => void log.push('host'));
    host.on('reload', { order: 'pre', handler: () => void log.push('host-pre') });
    await kernel.start();
    host.late().on('reload', { order: 'post', handler: () => void log.push('host-late-post') });
    await kernel.reload(config({ a: {}, b: {} }));
    expect(log).toEqual(['host-pre', 'host', 'a', 'b', 'host-late-post']);
    await kernel.stop();
  });
});

describe('PluginContext', () => {
  interface Counter { n: number }
  const COUNTER = createToken<Counter>('test.Counter');
  const seen: Record<string, unknown> = {};

  class Provider implements WeirPlugin {
    static readonly plugin: PluginDescriptor = { name: 'provider', configKey: 'provider', configSchema: z.strictObject({ n: z.number().default(1) }) };
    constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<{ n: number }>) {}
    setup(): void {
      this.ctx.provide(COUNTER, { n: this.ctx.config.n });
      this.ctx.hooks.on('reload', (e) => void (seen.reloadSection = this.ctx.sectionOf(e.next)));
      this.ctx.report('provider', () => ({ columns: ['n'], rows: [[this.ctx.config.n]] }));
      this.ctx.metric('test_provider_n', 'n', 'gauge', () => [{ labels: {}, value: this.ctx.config.n }]);
    }
  }
  class User implements WeirPlugin {
    static readonly plugin: PluginDescriptor = { name: 'user', configKey: 'user', configSchema: z.object({}), dependsOn: ['provider'] };
    constructor(@inject(COUNTER) injected: Counter, @inject(TOKENS.PluginContext) ctx: PluginContext) {
      seen.injected = injected;
      seen.used = ctx.use(COUNTER);
    }
    setup(): void {}
  }
  class Stranger implements WeirPlugin {
    static readonly plugin: PluginDescriptor = { name: 'stranger', configKey: 'stranger', configSchema: z.object({}) };
    constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext) {}
    setup(): void {
      seen.stranger = this.ctx.use(COUNTER);
      seen.strangerName = this.ctx.name;
    }
  }

  it('scopes section, services, reports and metrics to the plugin, and removes them on dispose', async () => {
    const kernel = new Kernel({ config: config({ provider: { n: 2 }, user: {}, stranger: {} }), plugins: [Stranger, User, Provider] });
    const reports = new Reports();
    kernel.container.register(REPORTS, { useValue: reports });
    await kernel.start();
    expect(kernel.startedPlugins()).toEqual(['stranger', 'provider', 'user']);
    expect(seen.injected).toEqual({ n: 2 });
    expect(seen.used).toBe(seen.injected);
    expect(seen.stranger).toBeUndefined(); // not a dependency: not visible
    expect(seen.strangerName).toBe('stranger');
    expect(kernel.service(COUNTER)).toBe(seen.injected);
    expect(reports.get('PROVIDER')!()).toEqual({ columns: ['n'], rows: [[2]] });
    expect(await kernel.metrics.getSingleMetricAsString('test_provider_n')).toContain('test_provider_n 2');

    await kernel.reload(config({ provider: { n: 5 }, user: {}, stranger: {} }));
    expect(seen.reloadSection).toEqual({ n: 5 });
    expect(reports.get('PROVIDER')!()).toEqual({ columns: ['n'], rows: [[5]] }); // ctx.config follows the running config

    // a reload that switches it off: it keeps its last section until the next start
    await kernel.reload(config({ user: {}, stranger: {} }));
    expect(reports.get('PROVIDER')!()).toEqual({ columns: ['n'], rows: [[5]] });

    await kernel.stop();
    expect(kernel.service(COUNTER)).toBeUndefined();
    expect(reports.get('PROVIDER')).toBeUndefined();
    expect(kernel.metrics.getSingleMetric('test_provider_n')).toBeUndefined();
  });

  it('a token already provided (or a kernel token) is WEIR_E_SERVICE_DUPLICATE', async () => {
    class Clobber implements WeirPlugin {
      static readonly plugin: PluginDescriptor = { name: 'clobber', configKey: 'clobber', configSchema: z.object({}) };
      constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext) {}
      setup(): void {
        this.ctx.provide(TOKENS.PoolRegistry, {} as never);
      }
    }
    const kernel = new Kernel({ config: config({ clobber: {} }), plugins: [Clobber] });
    const err = await startError(kernel);
    expect(err.code).toBe('WEIR_E_PLUGIN_SETUP_FAILED');
    expect((err as unknown as { cause: { code: string } }).cause.code).toBe('WEIR_E_SERVICE_DUPLICATE');
  });
});
