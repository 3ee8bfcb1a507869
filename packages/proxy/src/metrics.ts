import type { Registry } from 'prom-client';
import { registerCollected, histogramValues, type MetricValue as Value, type Pool } from '@weir/kernel';
import { PoolCounters, WAIT_BUCKETS, XACT_BUCKETS } from './stats.js';

/** What the proxy's metrics read, at scrape time only. */
export interface MetricsSource {
  pools(): { pool: Pool; database: string; user: string }[];
  counters(pool: Pool): PoolCounters;
  clientCounts(pool: Pool): { active: number; waiting: number };
}

const collected = registerCollected;

/**
 * Per-pool traffic of the proxy in the kernel's registry: clients, transactions, queries,
 * bytes, waits and the wait-time histogram. The kernel registers the pool gauges (server
 * connections by state, waiting, max wait) itself.
 */
export function registerProxyMetrics(registry: Registry, src: MetricsSource): void {
  const per = (fn: (labels: { pool: string; database: string; user: string }, c: PoolCounters, pool: Pool) => Value[]): (() => Value[]) =>
    () => src.pools().flatMap((p) => fn({ pool: p.pool.info.name, database: p.database, user: p.user }, src.counters(p.pool), p.pool));
  collected(registry, 'weir_clients', 'Client connections by pool and state', 'gauge', per((l, _c, pool) => {
    const n = src.clientCounts(pool);
    return [{ labels: { ...l, state: 'active' }, value: n.active }, { labels: { ...l, state: 'waiting' }, value: n.waiting }];
  }));
  const counter = (name: string, help: string, read: (c: PoolCounters) => number) =>
    collected(registry, name, help, 'counter', per((l, c) => [{ labels: l, value: read(c) }]));
  counter('weir_transactions_total', 'Transactions (server leases) completed', (c) => c.xacts);
  counter('weir_queries_total', 'Queries (simple queries and Syncs) sent', (c) => c.queries);
  counter('weir_client_bytes_received_total', 'Bytes received from clients', (c) => c.bytesIn);
  counter('weir_client_bytes_sent_total', 'Bytes sent to clients', (c) => c.bytesOut);
  collected(registry, 'weir_wait_seconds', 'Time clients waited for a server connection', 'histogram',
    per((l, c) => histogramValues('weir_wait_seconds', l, WAIT_BUCKETS, c.waitHist, c.waitMicros / 1e6, c.waits)));
  collected(registry, 'weir_transaction_seconds', 'Time a server connection was leased to a client (one transaction in transaction mode)', 'histogram',
    per((l, c) => histogramValues('weir_transaction_seconds', l, XACT_BUCKETS, c.xactHist, c.xactMicros / 1e6, c.xacts)));
}
