import { systemClock, type Clock } from './clock.js';
import { ErrorCodes, messageOf } from './errors.js';
import type { Hooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Pool } from './pool.js';
import type { PoolKey, PoolKind, PoolSpec } from './types.js';

export interface RegistryEntry {
  readonly key: PoolKey;
  readonly kind: PoolKind;
  readonly pool: Pool;
  readonly spec?: PoolSpec;
  readonly createdAt: number;
}

/** Why an entry is retired: one reason for all, or one per entry. */
export type RetireReason = string | ((entry: RegistryEntry) => string);

/** How retiring one pool ended. */
export interface RetireOutcome {
  readonly pool: string;
  readonly reason: string;
  readonly ok: boolean;
  readonly error?: unknown;
}

export type NewRegistryEntry = Omit<RegistryEntry, 'createdAt'> & { readonly createdAt?: number };

/** Stable map key of (database, user). NUL cannot occur in PostgreSQL names, so it cannot collide. */
export function poolKeyId(database: string, user: string): string {
  return database + '\u0000' + user;
}

/**
 * Pools keyed by (database, user). The map is a snapshot replaced as a whole on every change,
 * so a reader holding snapshot() never sees half a reload.
 */
export class PoolRegistry {
  private map: ReadonlyMap<string, RegistryEntry> = new Map();

  constructor(
    private readonly hooks: Hooks,
    private readonly clock: Clock = systemClock,
    /** Where the outcome of retiring a replaced entry's pool is logged (add() does not wait for it). */
    private readonly logger?: Logger,
  ) {}

  get(database: string, user: string): RegistryEntry | undefined {
    return this.map.get(poolKeyId(database, user));
  }

  snapshot(): ReadonlyMap<string, RegistryEntry> {
    return this.map;
  }

  entries(): RegistryEntry[] {
    return [...this.map.values()];
  }

  get size(): number {
    return this.map.size;
  }

  /** Add a pool. An entry already under that key is replaced and its pool retired. Emits pool:created. */
  add(entry: NewRegistryEntry): RegistryEntry {
    const full = this.complete(entry);
    const id = poolKeyId(full.key.database, full.key.user);
    const previous = this.map.get(id);
    const next = new Map(this.map);
    next.set(id, full);
    this.map = next;
    if (previous !== undefined && previous.pool !== full.pool) {
      const retiring = this.retireAll([previous], 'replaced');
      if (this.logger !== undefined) void retiring.then((outcomes) => logRetired(this.logger!, outcomes));
    }
    this.hooks.emit('pool:created', full);
    return full;
  }

  /** Remove the entry and retire its pool (in-flight leases finish). Emits pool:retired. */
  async retire(database: string, user: string, reason: string): Promise<void> {
    const id = poolKeyId(database, user);
    const entry = this.map.get(id);
    if (entry === undefined) return;
    const next = new Map(this.map);
    next.delete(id);
    this.map = next;
    await this.retireEntry(entry, reason);
  }

  /**
   * Swap in a whole new set of entries at once, then retire the pools left out (see replace and
   * retireAll). Resolves with each retirement's outcome, for the caller to log.
   */
  swap(next: Iterable<NewRegistryEntry | RegistryEntry>, reason: RetireReason): Promise<RetireOutcome[]> {
    return this.retireAll(this.replace(next), reason);
  }

  /**
   * Replace the map with `next` in one step. Entries new to it emit pool:created; an entry keeping
   * the same pool keeps its createdAt. Returns the entries whose pool left the map: not yet retired.
   */
  replace(next: Iterable<NewRegistryEntry | RegistryEntry>): RegistryEntry[] {
    const old = this.map;
    const map = new Map<string, RegistryEntry>();
    const created: RegistryEntry[] = [];
    for (const e of next) {
      const id = poolKeyId(e.key.database, e.key.user);
      const before = old.get(id);
      const full = before !== undefined && before.pool === e.pool ? { ...e, createdAt: before.createdAt } : this.complete(e);
      if (before === undefined || before.pool !== e.pool) created.push(full);
      map.set(id, full);
    }
    const kept = new Set<Pool>();
    for (const e of map.values()) kept.add(e.pool);
    this.map = map;
    for (const e of created) this.hooks.emit('pool:created', e);
    return [...old.values()].filter((e) => !kept.has(e.pool));
  }

  /** Retire entries already off the map (emits pool:retired); resolves with every outcome, never rejects. */
  retireAll(entries: readonly RegistryEntry[], reason: RetireReason): Promise<RetireOutcome[]> {
    return Promise.all(entries.map(async (e): Promise<RetireOutcome> => {
      const why = typeof reason === 'string' ? reason : reason(e);
      try {
        await this.retireEntry(e, why);
        return { pool: e.pool.info.name, reason: why, ok: true };
      } catch (error) {
        return { pool: e.pool.info.name, reason: why, ok: false, error };
      }
    }));
  }

  /** Empty the map and close every pool (leased connections are destroyed). */
  async closeAll(): Promise<void> {
    const old = this.map;
    this.map = new Map();
    await Promise.all([...old.values()].map((e) => e.pool.close()));
  }

  private complete(e: NewRegistryEntry): RegistryEntry {
    const full: RegistryEntry = {
      key: e.key,
      kind: e.kind,
      pool: e.pool,
      createdAt: e.createdAt ?? this.clock.now(),
      ...(e.spec === undefined ? {} : { spec: e.spec }),
    };
    return full;
  }

  private retireEntry(entry: RegistryEntry, reason: string): Promise<void> {
    this.hooks.emit('pool:retired', entry, reason);
    return entry.pool.retire(reason);
  }
}

/** Log how retiring each pool ended: one line per pool; a failure at error level with its code. */
export function logRetired(logger: Logger, outcomes: readonly RetireOutcome[]): void {
  for (const o of outcomes) {
    if (o.ok) logger.info({ pool: o.pool, reason: o.reason }, `pool ${o.pool} retired (${o.reason})`);
    else {
      logger.error({ pool: o.pool, reason: o.reason, code: ErrorCodes.POOL_RETIRE_FAILED, err: o.error },
        `retiring pool ${o.pool} (${o.reason}) failed: ${messageOf(o.error)}`);
    }
  }
}
