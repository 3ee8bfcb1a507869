/** Startup parameters a client may set that the proxy keeps per client and applies to whichever server it lands on. */
export const EXCLUDED_STARTUP_PARAMS = new Set(['user', 'database', 'replication', 'options']);

/** Quote a value as a SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quote a name as a SQL identifier if it is not a plain lower-case word. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** Build one simple query with a SET for every client parameter whose value differs on the server; null when none do. */
export function paramSyncQuery(client: ReadonlyMap<string, string>, server: ReadonlyMap<string, string>): string | null {
  let sql: string | null = null;
  for (const [name, value] of client) {
    if (server.get(name) === value) continue;
    const stmt = `SET ${quoteIdent(name)} = ${quoteLiteral(value)};`;
    sql = sql === null ? stmt : sql + stmt;
  }
  return sql;
}
