import type { Registry } from 'prom-client';
import type { Pool } from '@weir/kernel';
import { PoolCounters, WAIT_BUCKETS } from './stats.js';

/** What the proxy's metrics read, at scrape time only. */
export interface MetricsSource {
  pools(): { pool: Pool; database: string; user: string }[];
  counters(pool: Pool): PoolCounters;
  clientCounts(pool: Pool): { active: number; waiting: number };
}

type Value = { metricName?: string; labels: Record<string, string | number>; value: number };

/** A metric computed when scraped (prom-client's metric interface; nothing runs between scrapes). */
function collected(registry: Registry, name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Value[]): void {
  const get = async () => ({ name, help, type, aggregator: 'sum' as const, values: values() });
  registry.registerMetric({ name, help, type, aggregator: 'sum', get, reset() {} } as never);
}

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
  collected(registry, 'weir_wait_seconds', 'Time clients waited for a server connection', 'histogram', per((l, c) => {
    const out: Value[] = [];
    let cumulative = 0;
    for (let i = 0; i <= WAIT_BUCKETS.length; i++) {
      cumulative += c.waitHist[i]!;
      out.push({ metricName: 'weir_wait_seconds_bucket', labels: { ...l, le: i < WAIT_BUCKETS.length ? WAIT_BUCKETS[i]! : '+Inf' }, value: cumulative });
    }
    out.push({ metricName: 'weir_wait_seconds_sum', labels: l, value: c.waitMicros / 1e6 });
    out.push({ metricName: 'weir_wait_seconds_count', labels: l, value: c.waits });
    return out;
  }));
}
