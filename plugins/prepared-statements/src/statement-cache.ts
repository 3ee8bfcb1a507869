import type { ConnectionId, StatementCacheService } from '@weir/kernel';
import { ConnectionStatements } from './connection-cache.js';

export interface PoolStatementStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Statements forgotten because their plan went stale (0A000 after an ALTER). */
  stale: number;
}

/**
 * Per-connection statement caches keyed by ConnectionId, bounded per connection (LRU).
 * The plugin empties a connection's cache from the `drop` hook whenever that connection
 * closes, so no cache outlives its connection. Used by both hosts.
 */
export class StatementCache implements StatementCacheService {
  private readonly byConnection = new Map<ConnectionId, ConnectionStatements>();
  private readonly stats = new Map<string, PoolStatementStats>();

  constructor(readonly maxPerConnection: number) {}

  /** The cache of connection `id` (made on first use) in pool `pool`. */
  for(id: ConnectionId, pool: string): ConnectionStatements {
    let c = this.byConnection.get(id);
    if (c === undefined) {
      c = new ConnectionStatements(pool, this.maxPerConnection);
      this.byConnection.set(id, c);
    }
    return c;
  }

  peek(id: ConnectionId): ConnectionStatements | undefined {
    return this.byConnection.get(id);
  }

  /** Forget connection `id` (it closed). */
  drop(id: ConnectionId): boolean {
    return this.byConnection.delete(id);
  }

  get connections(): number {
    return this.byConnection.size;
  }

  poolStats(pool: string): PoolStatementStats {
    let s = this.stats.get(pool);
    if (s === undefined) {
      s = { hits: 0, misses: 0, evictions: 0, stale: 0 };
      this.stats.set(pool, s);
    }
    return s;
  }

  /** One row per pool: statements cached across its connections, hits, misses, evictions. */
  report(): Array<{ pool: string; connections: number; statements: number } & PoolStatementStats> {
    const rows = new Map<string, { pool: string; connections: number; statements: number } & PoolStatementStats>();
    for (const [pool, s] of this.stats) rows.set(pool, { pool, connections: 0, statements: 0, ...s });
    for (const c of this.byConnection.values()) {
      let r = rows.get(c.pool);
      if (!r) rows.set(c.pool, (r = { pool: c.pool, connections: 0, statements: 0, hits: 0, misses: 0, evictions: 0, stale: 0 }));
      r.connections++;
      r.statements += c.size;
    }
    return [...rows.values()].sort((a, b) => a.pool.localeCompare(b.pool));
  }
}

/**
 * The token it is provided under: the kernel's, so hosts find it without importing this package
 * (`kernel.service(STATEMENT_CACHE)`), typed as the kernel's StatementCacheService.
 */
export { STATEMENT_CACHE } from '@weir/kernel';
