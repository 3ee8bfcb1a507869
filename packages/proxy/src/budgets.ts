import { ConnectionBudget } from '@weir/kernel';
import type { ProxyConfig } from './config/schema.js';

/**
 * The connection caps pools share: one budget per database (`max_db_connections`, per pool or
 * from `general`) and one per server login user (`max_user_connections`). Budgets live as long
 * as the proxy; a RELOAD changes their limits in place (0 = no cap).
 */
export class Budgets {
  private readonly dbs = new Map<string, ConnectionBudget>();
  private readonly users = new Map<string, ConnectionBudget>();
  private readonly pools = new Map<string, ConnectionBudget>();

  /**
   * `shared`: with general.workers > 1, each cap is a worker's share of a cap held by the
   * supervisor, and pool_size becomes a cap too (a pool's size is global).
   */
  constructor(private readonly shared?: (name: string, limit: number) => ConnectionBudget) {}

  /** With workers: the pool_size cap of pool `id` (size + reserve), else none. */
  pool(id: string, limit: number): ConnectionBudget[] {
    if (!this.shared) return [];
    let b = this.pools.get(id);
    if (b === undefined) this.pools.set(id, (b = this.shared(`pool_size ${id}`, limit)));
    else b.limit = limit;
    return [b];
  }

  /** The budgets of a pool to `database` logging in as `serverUser`. */
  of(database: string, serverUser: string, config: ProxyConfig): ConnectionBudget[] {
    return [
      get(this.dbs, database, dbLimit(config, database), 'max_db_connections', this.shared),
      get(this.users, serverUser, config.general.max_user_connections, 'max_user_connections', this.shared),
    ];
  }

  /** A reload: every budget takes its limit from the new config. */
  apply(config: ProxyConfig): void {
    for (const [db, b] of this.dbs) b.limit = dbLimit(config, db);
    for (const b of this.users.values()) b.limit = config.general.max_user_connections;
  }

  /** For SHOW DATABASES / SHOW USERS style reports: name, limit, connections held. */
  list(): { kind: 'database' | 'user'; name: string; limit: number; used: number }[] {
    return [
      ...[...this.dbs].map(([name, b]) => ({ kind: 'database' as const, name, limit: b.limit, used: b.used })),
      ...[...this.users].map(([name, b]) => ({ kind: 'user' as const, name, limit: b.limit, used: b.used })),
    ];
  }
}

function dbLimit(config: ProxyConfig, database: string): number {
  return config.pools[database]?.max_db_connections ?? config.general.max_db_connections;
}

function get(map: Map<string, ConnectionBudget>, name: string, limit: number, key: string,
  shared?: (name: string, limit: number) => ConnectionBudget): ConnectionBudget {
  let b = map.get(name);
  if (b === undefined) {
    b = shared ? shared(`${key} ${name}`, limit) : new ConnectionBudget(`${key} ${name}`, limit);
    map.set(name, b);
  }
  return b;
}
