import type { PoolStats } from '@weir/kernel';
import type { PoolCounters } from '../stats.js';

/** SHOW STATS figures of one database: its pools' counters added up. */
export interface Totals {
  xacts: number;
  queries: number;
  assignments: number;
  received: number;
  sent: number;
  xactMicros: number;
  queryMicros: number;
  waitMicros: number;
  waits: number;
  parses: number;
  binds: number;
}

export const zeroTotals = (): Totals => ({ xacts: 0, queries: 0, assignments: 0, received: 0, sent: 0, xactMicros: 0, queryMicros: 0, waitMicros: 0, waits: 0, parses: 0, binds: 0 });

/** Per database, as PgBouncer reports (SHOW STATS has one row per database, not per pool). */
export function totalsByDatabase(pools: { database: string; counters: PoolCounters; stats: PoolStats }[]): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const { database, counters: c, stats } of pools) {
    let t = out.get(database);
    if (t === undefined) out.set(database, (t = zeroTotals()));
    t.xacts += c.xacts;
    t.queries += c.queries;
    t.assignments += stats.acquiredTotal;
    t.received += c.bytesIn;
    t.sent += c.bytesOut;
    t.xactMicros += c.xactMicros;
    t.queryMicros += c.queryMicros;
    t.waitMicros += c.waitMicros;
    t.waits += c.waits;
    t.parses += c.parses;
    t.binds += c.binds;
  }
  return out;
}
