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

/**
 * Build one simple query that gives a server the client's parameters; null when it has them all.
 * Reported parameters (ParameterStatus) are compared with the server's current values. The others
 * (search_path, work_mem, … from the startup packet) the server never reports, so `applied` holds
 * what weir SET on it for earlier clients: those this client differs on are SET, those it lacks are
 * RESET — one client's startup parameters never leak to the next client of the pool. `applied` is
 * updated to this client's values (a failed SET drops the server, so it cannot be wrong for long).
 */
export function paramSyncQuery(client: ReadonlyMap<string, string>, server: ReadonlyMap<string, string>, applied: Map<string, string>): string | null {
  let sql = '';
  for (const name of applied.keys()) {
    if (!client.has(name)) {
      sql += `RESET ${quoteIdent(name)};`;
      applied.delete(name);
    }
  }
  for (const [name, value] of client) {
    if (server.has(name)) {
      if (server.get(name) === value) continue;
    } else {
      if (applied.get(name) === value) continue;
      applied.set(name, value);
    }
    sql += `SET ${quoteIdent(name)} = ${quoteLiteral(value)};`;
  }
  return sql === '' ? null : sql;
}

/**
 * Clients with the same parameters share one read-only map: an idle client carries none of its
 * own, and "this server already has these parameters" is one identity check per checkout. Held
 * weakly: a set no client uses any more is collected and its entry removed.
 */
const interned = new Map<string, WeakRef<ReadonlyMap<string, string>>>();
const collected = new FinalizationRegistry<string>((key) => {
  const ref = interned.get(key);
  if (ref !== undefined && ref.deref() === undefined) interned.delete(key);
});

export function internParams(params: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  let key = '';
  for (const [k, v] of params) key += `${k}\0${v}\0`;
  const known = interned.get(key)?.deref();
  if (known !== undefined) return known;
  interned.set(key, new WeakRef(params));
  collected.register(params, key);
  return params;
}
