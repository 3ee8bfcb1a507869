import { z } from 'zod';
import {
  ClientError, TOKENS, createToken, inject, messageOf,
  type InjectionToken, type Pool, type PluginContext, type PluginDescriptor,
  type PoolSpec, type ReloadEvent, type ResolvePoolRequest, type WeirPlugin,
} from '@weir/kernel';
import { RegistryDynamicKeys, type DynamicPoolKeys } from './keys.js';
import { staleDatabases } from './reload.js';

/** The set of dynamic pool keys, provided by this plugin (ctx.provide) to plugins that depend on it. */
export const DYNAMIC_POOL_KEYS: InjectionToken<DynamicPoolKeys> = createToken<DynamicPoolKeys>('weir.plugin.dynamic-pools.keys');

/** A login would need a dynamic pool beyond `max_pools`. */
export const DYNAMIC_POOL_LIMIT = 'WEIR_E_DYNAMIC_POOL_LIMIT';

/** SQLSTATE 53300 too_many_connections: what a client hears when max_pools is reached. */
const TOO_MANY = '53300';

export const dynamicPoolsConfigSchema = z.object({
  /** Most dynamic pools alive at once. */
  max_pools: z.number().int().positive().default(1000).describe('Most dynamic pools alive at once; a login past it gets 53300.'),
}).strict();

export type DynamicPoolsConfig = z.infer<typeof dynamicPoolsConfigSchema>;

/**
 * Answers `resolvePool`: makes the pool for a resolved user (auth_query or any other
 * `resolveUser` answer) through the host's PoolFactory and registers it as `dynamic`.
 * On reload, retires the dynamic pools of every database whose section changed.
 */
export class DynamicPoolsPlugin implements WeirPlugin {
  static readonly plugin: PluginDescriptor = {
    name: '@weir/plugin-dynamic-pools',
    configKey: 'dynamic_pools',
    configSchema: dynamicPoolsConfigSchema,
    kernel: '^0.1.0',
  };

  private readonly keys: RegistryDynamicKeys;
  private maxPools: number;

  constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<DynamicPoolsConfig>) {
    this.keys = new RegistryDynamicKeys(ctx.registry);
    this.maxPools = ctx.config.max_pools;
  }

  private get registry() {
    return this.ctx.registry;
  }

  private get logger() {
    return this.ctx.logger;
  }

  setup(): void {
    this.ctx.provide(DYNAMIC_POOL_KEYS, this.keys);
    this.ctx.hooks.resolver('resolvePool', (req) => this.resolvePool(req));
    this.ctx.hooks.on('reload', (event) => this.reload(event));
  }

  /** Synchronous on purpose: two logins racing for the same new pool cannot both make one. */
  resolvePool(req: ResolvePoolRequest): Pool | undefined {
    const { key, resolved } = req;
    const existing = this.registry.get(key.database, key.user);
    if (existing !== undefined && !existing.pool.retired) return existing.pool;
    if (resolved === undefined) return undefined;
    const name = `${key.user}@${key.database}`;
    if (this.keys.size >= this.maxPools) {
      this.logger.warn({ pool: name, max_pools: this.maxPools }, 'dynamic pool refused: max_pools reached');
      throw new ClientError(DYNAMIC_POOL_LIMIT, TOO_MANY, `too many dynamic pools (max_pools = ${this.maxPools}): no pool for ${name}`, {
        pool: name,
        max_pools: this.maxPools,
      });
    }
    const spec: PoolSpec = {
      key,
      kind: 'dynamic',
      options: { max: resolved.pool.size, acquireTimeoutMs: this.ctx.runningConfig.current.general.query_wait_timeout },
      target: { resolved },
    };
    const pool = this.ctx.poolFactory.create(spec);
    this.registry.add({ key, kind: 'dynamic', pool, spec });
    this.logger.info({ pool: name, source: resolved.source, dynamic_pools: this.keys.size }, 'dynamic pool created');
    return pool;
  }

  private reload(event: ReloadEvent): void {
    // switched off (or gone) in the new file: it stays on, with its settings, until the next start
    const section = event.next.plugins?.[DynamicPoolsPlugin.plugin.configKey];
    if (section != null && section.enabled !== false) this.maxPools = this.ctx.sectionOf(event.next).max_pools;
    const stale = staleDatabases(event.previous.pools, event.next.pools);
    if (stale.size === 0) return;
    for (const database of stale) {
      const keys = this.keys.ofDatabase(database);
      if (keys.length === 0) continue;
      this.logger.info({ database, pools: keys.length }, 'pool section changed: retiring its dynamic pools');
      for (const k of keys) {
        // Off the map at once; connections leased by a transaction in flight close when released.
        this.registry.retire(k.database, k.user, 'config changed').catch((err: unknown) => {
          this.logger.error({ pool: `${k.user}@${k.database}`, error: messageOf(err) }, 'retiring a dynamic pool failed');
        });
      }
    }
  }
}
