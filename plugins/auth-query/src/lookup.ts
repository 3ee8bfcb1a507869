import pg from 'pg';

/** Where and how one database's lookups run. */
export interface LookupTarget {
  /** The weir database (pools.<name>) this lookup serves. */
  readonly database: string;
  readonly host: string;
  readonly port: number;
  /** Database the lookup connection opens. */
  readonly lookupDatabase: string;
  readonly user: string;
  readonly password: string;
  readonly query: string;
  readonly timeoutMs: number;
}

/** Runs the auth query. One per database with an auth_query section; closed when the section goes or changes. */
export interface Lookup {
  /** The stored password of `user` (md5 hash, SCRAM verifier or plaintext); null when the query finds no row. */
  fetch(user: string): Promise<unknown>;
  close(): Promise<void>;
}

export type LookupFactory = (target: LookupTarget) => Lookup;

/** Connections each database's lookup may hold open. */
const LOOKUP_CONNECTIONS = 2;

/** The stored password in a result: the second column (user name, password), or the only one. */
export function storedPassword(result: { rows: unknown[][]; fields: unknown[] }): unknown {
  if (result.rows.length === 0) return null;
  if (result.rows.length > 1) throw new Error(`the query returned ${result.rows.length} rows for one user`);
  const row = result.rows[0]!;
  if (row.length === 0) throw new Error('the query returned no columns');
  return row.length >= 2 ? row[1] : row[0];
}

/** A lookup over a small node-postgres pool of its own. The user name is always bound as $1. */
export class PgLookup implements Lookup {
  private readonly pool: pg.Pool;

  constructor(private readonly target: LookupTarget, onIdleError: (err: Error) => void) {
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      database: target.lookupDatabase,
      user: target.user,
      password: target.password,
      max: LOOKUP_CONNECTIONS,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: target.timeoutMs,
      query_timeout: target.timeoutMs,
      application_name: 'weir auth_query',
      allowExitOnIdle: true,
    });
    this.pool.on('error', onIdleError);
  }

  async fetch(user: string): Promise<unknown> {
    const result = await this.pool.query({ text: this.target.query, values: [user], rowMode: 'array' });
    return storedPassword(result as unknown as { rows: unknown[][]; fields: unknown[] });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
