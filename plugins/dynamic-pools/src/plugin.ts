import { z } from 'zod';
import {
  ClientError, TOKENS, createToken, inject,
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

  constructor(@inject(TOKENS.PluginContext) private readonly ctx: PluginContext<DynamicPoolsConfig>) {
    this.keys = new RegistryDynamicKeys(ctx.registry);
  }

  /** Of the running config: a reload's commit swaps it in. */
  private get maxPools(): number {
    return this.ctx.config.max_pools;
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

  /** Decide: the dynamic pools of every database whose section changed are retired with the swap. `max_pools` follows ctx.config. */
  private reload(event: ReloadEvent): void {
    for (const database of staleDatabases(event.previous.pools, event.next.pools)) {
      const keys = this.keys.ofDatabase(database);
      if (keys.length === 0) continue;
      this.logger.info({ database, pools: keys.length }, 'pool section changed: retiring its dynamic pools');
      // Off the map with the swap; connections leased by a transaction in flight close when released.
      for (const k of keys) event.pools.retire(k.database, k.user, 'config changed');
    }
  }
}
