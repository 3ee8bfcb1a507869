/** Kernel.reload builds the whole next state, commits it in one step, then retires (logged). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from './config/parse.js';
import { baseConfigSchema } from './config/schema.js';
import type { Config } from './config/types.js';
import { ErrorCodes, WeirError } from './errors.js';
import type { Hooks } from './hooks.js';
import { Kernel } from './kernel.js';
import { Pool } from './pool.js';
import type { PluginContext } from './plugin-context.js';
import type { PluginClass, PluginDescriptor, WeirPlugin } from './plugin-types.js';
import { memoryLogger } from './test-util.js';
import { TOKENS } from './tokens.js';
import { inject } from 'tsyringe';

const schema = z.strictObject({ level: z.number().default(1), veto: z.boolean().default(false) });
let parses = 0;
const counted = schema.transform((v) => (parses++, v));

/** A plugin whose verdict refuses `veto: true` (naming its field), and whose commit records the section it now runs with. */
function vetoPlugin(log: string[]): PluginClass {
  class Veto implements WeirPlugin {
    static readonly plugin: PluginDescriptor = { name: 'weir-plugin-veto', configKey: 'veto', configSchema: counted };
    constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<z.output<typeof schema>>) {}
    setup(): void {
      this.ctx.hooks.on('reload', (e) => {
        const next = this.ctx.sectionOf(e.next);
        expect(this.ctx.sectionOf(e.next)).toBe(next); // validated once, by the kernel
        if (next.veto) throw new WeirError(ErrorCodes.RELOAD_REJECTED, 'veto is set', { field: 'veto' });
        return () => void log.push(`veto commit level=${this.ctx.config.level}`);
      });
    }
  }
  return Veto;
}

function config(veto: object, pools: Record<string, object>, file?: string): Config {
  const cfg = parseConfig('', baseConfigSchema);
  cfg.plugins = { veto: { enabled: true, ...veto } };
  cfg.pools = pools;
  if (file !== undefined) cfg.file = file;
  return cfg;
}

function pool(hooks: Hooks, database: string, user = 'u'): Pool {
  return new Pool<object>({
    info: { name: `${user}@${database}`, key: { database, user }, kind: 'static' },
    connector: { connect: async () => ({}), destroy: () => undefined },
    options: { max: 2, acquireTimeoutMs: 0 },
    hooks,
  });
}

/** A host handler like the proxy's: one pool per `pools` key; a changed section rebuilds it, a removed one retires it. */
function host(kernel: Kernel, log: string[]): void {
  kernel.hooks.on('reload', {
    order: 'pre',
    handler: (e) => {
      for (const entry of e.pools.current()) {
        const db = entry.key.database;
        if (!(db in e.next.pools)) e.pools.retire(db, 'u', 'removed');
        else if (JSON.stringify(e.next.pools[db]) !== JSON.stringify(e.previous.pools[db])) e.pools.retire(db, 'u', 'changed');
      }
      for (const db of Object.keys(e.next.pools)) {
        if (!e.pools.has(db, 'u')) e.pools.add({ key: { database: db, user: 'u' }, kind: 'static', make: () => pool(kernel.hooks, db) });
      }
      return () => void log.push(`host commit pools=${kernel.registry.entries().map((r) => r.key.database).join(',')}`);
    },
  }, 'host');
}

async function started(log: string[], logger = memoryLogger().logger): Promise<Kernel> {
  const kernel = new Kernel({ config: config({ level: 1 }, { a: { n: 1 }, b: { n: 1 } }), plugins: [vetoPlugin(log)], logger });
  host(kernel, log);
  await kernel.start();
  for (const db of ['a', 'b']) kernel.registry.add({ key: { database: db, user: 'u' }, kind: 'static', pool: pool(kernel.hooks, db) });
  return kernel;
}

describe('Kernel.reload: build, then swap, then retire', () => {
  it('a plugin refusing its new section changes nothing: pools, config, sections; the error names plugin, key and line', async () => {
    const log: string[] = [];
    const kernel = await started(log);
    const before = kernel.registry.snapshot();
    const running = kernel.config;
    const text = 'plugins:\n  veto:\n    level: 2\n    veto: true\npools:\n  a: { n: 2 }\n  c: {}\n';
    const next = config({ level: 2, veto: true }, { a: { n: 2 }, c: {} }, '/etc/weir.yaml');
    const err = await kernel.reload(next, { text }).catch((e: unknown) => e as WeirError);
    expect(err).toMatchObject({
      code: ErrorCodes.RELOAD_REJECTED,
      message: '/etc/weir.yaml:4: plugins.veto.veto: plugin weir-plugin-veto refused the new config: veto is set',
      details: { plugin: 'weir-plugin-veto', key: 'plugins.veto.veto', line: 4, file: '/etc/weir.yaml' },
    });
    expect(kernel.registry.snapshot()).toBe(before);
    for (const e of before.values()) expect(e.pool.retired).toBe(false);
    expect(kernel.config).toBe(running);
    expect(kernel.resolve(TOKENS.Config).current).toBe(running);
    expect(log).toEqual([]); // no commit ran, the host's included
    // and the next good reload goes through as if the refused one never happened
    await kernel.reload(config({ level: 3 }, { a: { n: 2 }, c: {} }));
    expect(kernel.registry.entries().map((e) => e.key.database).sort()).toEqual(['a', 'c']);
    expect(log).toEqual(['host commit pools=a,c', 'veto commit level=3']);
    await kernel.stop();
  });

  it('commits after the swap, in handler order, then retires what left, logging every outcome', async () => {
    const log: string[] = [];
    const { logger, lines } = memoryLogger('info');
    const kernel = await started(log, logger);
    const [a, b] = ['a', 'b'].map((db) => kernel.registry.get(db, 'u')!.pool);
    b!.retire = () => Promise.reject(new Error('server gone'));
    kernel.hooks.late().listen('pool:retired', () => void log.push(`retired, commits done: ${log.length === 2}`));
    parses = 0;
    await kernel.reload(config({ level: 2 }, { a: { n: 1 }, c: {} }));
    expect(parses).toBe(1); // its section, validated once for every reader (verdict, commit, ctx.config)
    expect(log).toEqual(['host commit pools=a,c', 'veto commit level=2', 'retired, commits done: true']);
    expect(kernel.registry.get('a', 'u')!.pool).toBe(a); // unchanged: kept, not rebuilt
    await kernel.retired();
    const failed = lines.find((l) => l.code === ErrorCodes.POOL_RETIRE_FAILED);
    expect(failed).toMatchObject({ pool: 'u@b', reason: 'removed', msg: 'retiring pool u@b (removed) failed: server gone' });
    await kernel.stop();
  });

  it('a pool that cannot be built changes nothing (WEIR_E_RELOAD_BUILD_FAILED naming it), and closes those already built', async () => {
    const log: string[] = [];
    const kernel = await started(log);
    const before = kernel.registry.snapshot();
    const built: Pool[] = [];
    kernel.hooks.late().on('reload', (e) => {
      e.pools.add({ key: { database: 'x', user: 'u' }, kind: 'static', make: () => (built.push(pool(kernel.hooks, 'x')), built[0]!) });
      e.pools.add({ key: { database: 'y', user: 'u' }, kind: 'static', make: () => { throw new Error('no target'); } });
    }, 'host2');
    await expect(kernel.reload(config({}, { a: { n: 1 }, b: { n: 1 } }))).rejects.toMatchObject({
      code: ErrorCodes.RELOAD_BUILD_FAILED,
      details: { pool: 'u@y' },
    });
    expect(kernel.registry.snapshot()).toBe(before);
    expect(log).toEqual([]);
    expect(built[0]!.retired).toBe(true);
    await kernel.stop();
  });

  it('keeps a pool a login added while the handlers were deciding', async () => {
    const log: string[] = [];
    const kernel = await started(log);
    kernel.hooks.late().on('reload', async () => {
      await new Promise((r) => setTimeout(r, 1));
      kernel.registry.add({ key: { database: 'tenant', user: 'u' }, kind: 'dynamic', pool: pool(kernel.hooks, 'tenant') });
    }, 'late-login');
    await kernel.reload(config({}, { a: { n: 1 } }));
    expect(kernel.registry.entries().map((e) => e.key.database).sort()).toEqual(['a', 'tenant']);
    await kernel.stop();
  });
});
