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

  /** The budgets of a pool to `database` logging in as `serverUser`. */
  of(database: string, serverUser: string, config: ProxyConfig): ConnectionBudget[] {
    return [
      get(this.dbs, database, dbLimit(config, database), 'max_db_connections'),
      get(this.users, serverUser, config.general.max_user_connections, 'max_user_connections'),
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

function get(map: Map<string, ConnectionBudget>, name: string, limit: number, key: string): ConnectionBudget {
  let b = map.get(name);
  if (b === undefined) {
    b = new ConnectionBudget(`${key} ${name}`, limit);
    map.set(name, b);
  }
  return b;
}
