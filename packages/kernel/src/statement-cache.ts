import type { ConnectionId } from './types.js';
import { createToken } from './tokens.js';

/** The prepared statements one pooled connection holds, least recently used first. */
export interface StatementNames {
  /** Is `name` prepared on this connection? Marks it recently used. */
  has(name: string): boolean;
  /** Record `name` as prepared; returns the name evicted to stay within the bound (to deallocate), if any. */
  add(name: string): string | null;
  delete(name: string): void;
}

/** Counters a host updates as it tracks statements of a pool. */
export interface StatementStats {
  hits: number;
  misses: number;
  evictions: number;
}

/**
 * A per-connection prepared-statement cache, shared by hosts and plugins: a plugin provides it
 * (`ctx.provide(STATEMENT_CACHE, …)`, @weir/plugin-prepared-statements does), a host that runs
 * named statements itself looks it up (`kernel.service(STATEMENT_CACHE)`, @weir/pg does) — neither
 * imports the other. Entries are keyed by ConnectionId and emptied when the connection closes.
 */
export interface StatementCacheService {
  /** The statements of connection `id` (made on first use) in pool `pool` ("user@database"). */
  for(id: ConnectionId, pool: string): StatementNames;
  /** Its statements, if connection `id` has an entry. */
  peek(id: ConnectionId): StatementNames | undefined;
  poolStats(pool: string): StatementStats;
}

export const STATEMENT_CACHE = createToken<StatementCacheService>('weir.StatementCache');
