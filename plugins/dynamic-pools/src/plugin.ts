import { z } from 'zod';
import {
  ClientError, TOKENS, createToken, inject, messageOf,
  type ConfigRef, type Hooks, type InjectionToken, type Kernel, type Logger, type Pool, type PluginDescriptor,
  type PoolFactory, type PoolRegistry, type PoolSpec, type ReloadEvent, type ResolvePoolRequest, type WeirPlugin,
} from '@weir/kernel';
import { RegistryDynamicKeys, type DynamicPoolKeys } from './keys.js';
import { staleDatabases } from './reload.js';

/** The set of dynamic pool keys, registered on the kernel's container by this plugin. */
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

  constructor(
    @inject(TOKENS.Hooks) private readonly hooks: Hooks,
    @inject(TOKENS.PoolRegistry) private readonly registry: PoolRegistry,
    @inject(TOKENS.PoolFactory) private readonly factory: PoolFactory,
    @inject(TOKENS.Config) private readonly config: ConfigRef,
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Kernel) private readonly kernel: Kernel,
    @inject(TOKENS.PluginConfig) options: unknown,
  ) {
    this.keys = new RegistryDynamicKeys(registry);
    this.maxPools = dynamicPoolsConfigSchema.parse(options ?? {}).max_pools;
  }

  setup(): void {
    this.kernel.container.register(DYNAMIC_POOL_KEYS, { useValue: this.keys });
    this.hooks.resolver('resolvePool', (req) => this.resolvePool(req));
    this.hooks.on('reload', (event) => this.reload(event));
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
      options: { max: resolved.pool.size, acquireTimeoutMs: this.config.current.general.query_wait_timeout },
      target: { resolved },
    };
    const pool = this.factory.create(spec);
    this.registry.add({ key, kind: 'dynamic', pool, spec });
    this.logger.info({ pool: name, source: resolved.source, dynamic_pools: this.keys.size }, 'dynamic pool created');
    return pool;
  }

  private reload(event: ReloadEvent): void {
    const next = event.next.plugins?.[DynamicPoolsPlugin.plugin.configKey];
    if (next !== undefined && next !== null && next.enabled !== false) {
      const { enabled: _enabled, ...body } = next;
      const parsed = dynamicPoolsConfigSchema.safeParse(body);
      if (parsed.success) this.maxPools = parsed.data.max_pools;
    }
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
