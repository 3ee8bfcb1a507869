import { ErrorCodes, WeirError, messageOf } from './errors.js';
import type { Pool } from './pool.js';
import { poolKeyId, type NewRegistryEntry, type RegistryEntry } from './registry.js';
import type { PoolKey, PoolKind, PoolSpec } from './types.js';

/** A pool the next config needs: built (`make`) only once every reload handler has agreed. */
export interface PlannedPool {
  readonly key: PoolKey;
  readonly kind: PoolKind;
  readonly spec?: PoolSpec;
  readonly make: () => Pool;
}

/**
 * The registry's next state, drafted by `reload` handlers (`event.pools`) while nothing has
 * changed yet: pools to retire, pools to add. The kernel builds the added pools, then applies
 * the plan to the registry in one step (`replace`), then retires what left it.
 */
export class PoolPlan {
  private readonly retiring = new Map<string, string>();
  private readonly adding = new Map<string, PlannedPool>();

  constructor(private readonly base: ReadonlyMap<string, RegistryEntry>) {}

  /** Entries of the running registry, as the plan starts from. */
  current(): RegistryEntry[] {
    return [...this.base.values()];
  }

  /** Whether (database, user) will have a pool once the plan is applied. */
  has(database: string, user: string): boolean {
    const id = poolKeyId(database, user);
    return this.adding.has(id) || (this.base.has(id) && !this.retiring.has(id));
  }

  /** Retire the running pool of (database, user) when the plan is applied. */
  retire(database: string, user: string, reason: string): void {
    const id = poolKeyId(database, user);
    if (this.base.has(id) && !this.retiring.has(id)) this.retiring.set(id, reason);
  }

  /** Add a pool (a running one under the same key must be retired first). */
  add(pool: PlannedPool): void {
    const id = poolKeyId(pool.key.database, pool.key.user);
    if (this.adding.has(id) || (this.base.has(id) && !this.retiring.has(id))) {
      const name = `${pool.key.user}@${pool.key.database}`;
      throw new WeirError(ErrorCodes.RELOAD_BUILD_FAILED, `reload: pool ${name} is planned twice (retire the running one first)`, { pool: name });
    }
    this.adding.set(id, pool);
  }

  get empty(): boolean {
    return this.retiring.size === 0 && this.adding.size === 0;
  }

  /** Build every added pool. A failure closes those built and throws WEIR_E_RELOAD_BUILD_FAILED naming the pool. */
  build(): BuiltPlan {
    const built: NewRegistryEntry[] = [];
    for (const p of this.adding.values()) {
      try {
        built.push({ key: p.key, kind: p.kind, pool: p.make(), ...(p.spec === undefined ? {} : { spec: p.spec }) });
      } catch (err) {
        for (const b of built) void b.pool.close().catch(() => undefined);
        const name = `${p.key.user}@${p.key.database}`;
        throw new WeirError(ErrorCodes.RELOAD_BUILD_FAILED, `reload: cannot build pool ${name}: ${messageOf(err)}`, { pool: name }, { cause: err });
      }
    }
    return new BuiltPlan(this.retiring, built);
  }
}

/** A plan whose pools are built: applied to whatever the registry holds at commit time. */
export class BuiltPlan {
  constructor(
    private readonly retiring: ReadonlyMap<string, string>,
    private readonly built: readonly NewRegistryEntry[],
  ) {}

  /** The registry entries after the plan, starting from `now` (logins may have added dynamic pools since). */
  entries(now: ReadonlyMap<string, RegistryEntry>): NewRegistryEntry[] {
    const next = new Map<string, NewRegistryEntry>(now);
    for (const id of this.retiring.keys()) next.delete(id);
    for (const b of this.built) next.set(poolKeyId(b.key.database, b.key.user), b);
    return [...next.values()];
  }

  /** Why an entry that left the registry is retired. */
  reason(entry: RegistryEntry): string {
    return this.retiring.get(poolKeyId(entry.key.database, entry.key.user)) ?? 'replaced';
  }
}
