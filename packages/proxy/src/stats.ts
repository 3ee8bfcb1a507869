/** Per-pool traffic counters kept by the proxy (SHOW STATS). Plain fields: bumped on the hot path. */
export class PoolCounters {
  xacts = 0;
  queries = 0;
  bytesIn = 0;
  bytesOut = 0;
  waitMicros = 0;
  waits = 0;
}
