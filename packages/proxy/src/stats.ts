/** Upper bounds (seconds) of the wait-time histogram buckets; the last bucket is +Inf. */
export const WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] as const;
/** Upper bounds (seconds) of the transaction-time histogram buckets. */
export const XACT_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300] as const;

function bucketOf(bounds: readonly number[], seconds: number): number {
  let i = 0;
  while (i < bounds.length && seconds > bounds[i]!) i++;
  return i;
}

/** Per-pool traffic counters kept by the proxy (SHOW STATS, /metrics). Plain fields: bumped on the hot path. */
export class PoolCounters {
  xacts = 0;
  queries = 0;
  bytesIn = 0;
  bytesOut = 0;
  waitMicros = 0;
  waits = 0;
  /** Time servers spent leased to clients (transaction mode: one lease per transaction) and answering queries. */
  xactMicros = 0;
  queryMicros = 0;
  /** Parse and Bind messages from clients. */
  parses = 0;
  binds = 0;
  /** Waits per bucket of WAIT_BUCKETS (non-cumulative), the last slot for longer ones. */
  readonly waitHist = new Float64Array(WAIT_BUCKETS.length + 1);
  /** Leases per bucket of XACT_BUCKETS (non-cumulative). */
  readonly xactHist = new Float64Array(XACT_BUCKETS.length + 1);

  /** A client waited this long for a server connection. */
  noteWait(micros: number): void {
    this.waits++;
    this.waitMicros += micros;
    this.waitHist[bucketOf(WAIT_BUCKETS, micros / 1e6)]!++;
  }

  /** A server lease (a transaction in transaction mode) ended after this long. */
  noteXact(micros: number): void {
    this.xacts++;
    this.xactMicros += micros;
    this.xactHist[bucketOf(XACT_BUCKETS, micros / 1e6)]!++;
  }
}
