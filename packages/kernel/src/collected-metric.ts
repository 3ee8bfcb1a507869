import type { Registry } from 'prom-client';

/** One sample of a metric read at scrape time; `metricName` for a histogram's _bucket/_sum/_count. */
export interface MetricValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * Register a metric whose samples are computed when Prometheus scrapes (prom-client's metric
 * interface): nothing runs between scrapes, and the figures come from the counters the code keeps
 * anyway. Plugins use it through `TOKENS.Metrics`; the returned function unregisters it (dispose).
 */
export function registerCollected(registry: Registry, name: string, help: string,
  type: 'counter' | 'gauge' | 'histogram', values: () => MetricValue[]): () => void {
  const get = async () => ({ name, help, type, aggregator: 'sum' as const, values: values() });
  registry.registerMetric({ name, help, type, aggregator: 'sum', get, reset() {} } as never);
  return () => registry.removeSingleMetric(name);
}

/** Histogram samples (cumulative buckets, sum, count) from non-cumulative bucket counts. */
export function histogramValues(name: string, labels: Record<string, string | number>, bounds: readonly number[],
  counts: ArrayLike<number>, sum: number, count: number): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i <= bounds.length; i++) {
    cumulative += counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < bounds.length ? bounds[i]! : '+Inf' }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: count });
  return out;
}
