import { zeroTotals, type Totals } from './totals.js';

/**
 * SHOW STATS avg_* and SHOW STATS_AVERAGES, as PgBouncer computes them: over the last
 * stats_period, counts and bytes per second, times per transaction / query / wait.
 */
export class Averages {
  private last = new Map<string, { at: number; totals: Totals }>();
  private current = new Map<string, Totals>();

  /** Take a snapshot (every stats_period): averages are the change since the previous one. */
  sample(now: number, totals: Map<string, Totals>): void {
    const next = new Map<string, { at: number; totals: Totals }>();
    const avg = new Map<string, Totals>();
    for (const [db, t] of totals) {
      const prev = this.last.get(db);
      next.set(db, { at: now, totals: { ...t } });
      if (prev === undefined) continue;
      const secs = Math.max((now - prev.at) / 1000, 0.001);
      const d = (k: keyof Totals) => t[k] - prev.totals[k];
      const per = (k: keyof Totals) => Math.round(d(k) / secs);
      const each = (k: keyof Totals, n: keyof Totals) => (d(n) > 0 ? Math.round(d(k) / d(n)) : 0);
      avg.set(db, {
        xacts: per('xacts'), queries: per('queries'), assignments: per('assignments'), received: per('received'), sent: per('sent'),
        xactMicros: each('xactMicros', 'xacts'), queryMicros: each('queryMicros', 'queries'), waitMicros: each('waitMicros', 'waits'),
        waits: per('waits'), parses: per('parses'), binds: per('binds'),
      });
    }
    this.last = next;
    this.current = avg;
  }

  of(database: string): Totals {
    return this.current.get(database) ?? zeroTotals();
  }
}
