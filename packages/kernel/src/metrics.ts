import { Gauge, type Registry } from 'prom-client';
import type { PoolRegistry } from './registry.js';

/** Pool gauges, read from the registry at scrape time (nothing runs between scrapes). */
export function registerPoolMetrics(metrics: Registry, pools: PoolRegistry): void {
  const each = (fn: (labels: { pool: string; kind: string }, stats: ReturnType<import('./pool.js').Pool['stats']>) => void): void => {
    for (const e of pools.snapshot().values()) fn({ pool: e.pool.info.name, kind: e.kind }, e.pool.stats());
  };
  new Gauge({
    name: 'weir_pool_connections',
    help: 'Server connections by pool and state',
    labelNames: ['pool', 'kind', 'state'] as const,
    registers: [metrics],
    collect() {
      this.reset();
      each((l, s) => {
        this.set({ ...l, state: 'idle' }, s.idle);
        this.set({ ...l, state: 'active' }, s.active);
        this.set({ ...l, state: 'pending' }, s.pending);
      });
    },
  });
  new Gauge({
    name: 'weir_pool_waiting',
    help: 'Clients waiting for a server connection',
    labelNames: ['pool', 'kind'] as const,
    registers: [metrics],
    collect() {
      this.reset();
      each((l, s) => this.set(l, s.waiting));
    },
  });
  new Gauge({
    name: 'weir_pool_max_wait_seconds',
    help: 'Age of the oldest waiter',
    labelNames: ['pool', 'kind'] as const,
    registers: [metrics],
    collect() {
      this.reset();
      each((l, s) => this.set(l, s.maxWaitMs / 1000));
    },
  });
  new Gauge({
    name: 'weir_pools',
    help: 'Pools in the registry',
    labelNames: ['kind'] as const,
    registers: [metrics],
    collect() {
      this.reset();
      let st = 0;
      let dy = 0;
      for (const e of pools.snapshot().values()) e.kind === 'static' ? st++ : dy++;
      this.set({ kind: 'static' }, st);
      this.set({ kind: 'dynamic' }, dy);
    },
  });
}
