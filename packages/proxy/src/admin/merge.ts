type Cell = string | number | boolean | null;
interface Table { columns: readonly string[]; rows: Cell[][] }

/**
 * How each SHOW table's rows from several workers become one (general.workers > 1): rows with
 * the same key columns are one row whose counts are summed (`keep`: columns taken from the
 * first worker, as settings; `max`: the largest); the others list every worker's rows with a
 * `worker` column.
 */
const SUMMED: Record<string, { key: string[]; keep?: string[]; max?: string[] }> = {
  POOLS: { key: ['database', 'user'], keep: ['pool_mode', 'load_balance_hosts', 'pool_size', 'dynamic'], max: ['maxwait', 'maxwait_us'] },
  STATS: { key: ['database'] },
  STATS_TOTALS: { key: ['database'] },
  STATS_AVERAGES: { key: ['database'] },
  DATABASES: { key: ['name'], keep: ['host', 'port', 'database', 'force_user', 'pool_size', 'min_pool_size', 'reserve_pool_size',
    'server_lifetime', 'pool_mode', 'load_balance_hosts', 'max_connections', 'max_client_connections', 'paused', 'disabled'] },
  USERS: { key: ['name'], keep: ['pool_size', 'reserve_pool_size', 'pool_mode', 'max_user_connections', 'max_user_client_connections'] },
  LISTS: { key: ['list'], max: ['databases', 'users'] },
};

export function mergeTables(what: string, parts: ReadonlyArray<{ worker: number; table: Table }>): Table {
  const first = parts[0]?.table ?? { columns: [], rows: [] };
  const rule = SUMMED[what.toUpperCase()];
  if (rule === undefined) {
    return { columns: [...first.columns, 'worker'], rows: parts.flatMap((p) => p.table.rows.map((r) => [...r, p.worker])) };
  }
  const cols = first.columns;
  const at = (name: string) => cols.indexOf(name);
  const keys = rule.key.map(at);
  const keep = new Set((rule.keep ?? []).map(at));
  const max = new Set((rule.max ?? []).map(at));
  const merged = new Map<string, Cell[]>();
  for (const p of parts) {
    for (const row of p.table.rows) {
      const id = JSON.stringify(keys.map((k) => row[k]));
      const into = merged.get(id);
      if (into === undefined) {
        merged.set(id, [...row]);
        continue;
      }
      // LISTS: the rows named databases/users count configured names, the same in every worker.
      const listMax = what.toUpperCase() === 'LISTS' && (row[0] === 'databases' || row[0] === 'users');
      for (let i = 0; i < row.length; i++) {
        if (keys.includes(i) || keep.has(i)) continue;
        const a = into[i];
        const b = row[i];
        if (typeof a !== 'number' || typeof b !== 'number') continue;
        into[i] = max.has(i) || listMax ? Math.max(a, b) : a + b;
      }
    }
  }
  return { columns: cols, rows: [...merged.values()] };
}
