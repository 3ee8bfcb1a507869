/**
 * Prometheus (issue 14, item 2): general.metrics_port serves /metrics in the text format from the
 * kernel's registry (pool gauges, per-pool traffic, the wait-time histogram) and /healthz, 200
 * while weir accepts clients and 503 while it drains.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startStack, type Stack, type WeirInstance } from './helpers.js';

let stack: Stack;
let weir: WeirInstance;
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

function get(path: string): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    }).on('error', reject);
  });
}

/** The value of one sample line, e.g. sample(text, 'weir_transactions_total{pool="app@appdb"'). */
function sample(text: string, prefix: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-metrics', poolSize: 1 });
  port = await freePort();
  weir = await stack.startAnotherWeir({ poolSize: 1, general: { metrics_port: port, shutdown_timeout: '20s' } });
});

afterAll(async () => {
  await stack?.stop();
});

describe('GET /metrics', () => {
  it('counts transactions, queries, bytes and waits per pool, in the Prometheus text format', async () => {
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    for (let i = 0; i < 5; i++) await c.query('SELECT 1');
    // Two clients on a pool of one: someone waits.
    const d = new pg.Client({ ...stack.conn(), port: weir.port });
    await d.connect();
    await Promise.all([c.query('SELECT pg_sleep(0.2)'), d.query('SELECT pg_sleep(0.2)')]);
    await c.end();
    await d.end();
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain/);
    const pool = 'pool="app@appdb",database="appdb",user="app"';
    expect(sample(r.body, `weir_transactions_total{${pool}}`)).toBeGreaterThanOrEqual(7);
    expect(sample(r.body, `weir_queries_total{${pool}}`)).toBeGreaterThanOrEqual(7);
    expect(sample(r.body, `weir_client_bytes_sent_total{${pool}}`)).toBeGreaterThan(0);
    expect(sample(r.body, `weir_wait_seconds_count{${pool}}`)).toBeGreaterThanOrEqual(1);
    expect(sample(r.body, `weir_wait_seconds_bucket{${pool},le="+Inf"}`)).toBe(sample(r.body, `weir_wait_seconds_count{${pool}}`));
    expect(r.body).toContain('# TYPE weir_wait_seconds histogram');
    expect(r.body).toContain('# TYPE weir_transaction_seconds histogram');
    expect(sample(r.body, `weir_transaction_seconds_count{${pool}}`)).toBe(sample(r.body, `weir_transactions_total{${pool}}`));
    expect(sample(r.body, `weir_transaction_seconds_bucket{${pool},le="+Inf"}`)).toBe(sample(r.body, `weir_transaction_seconds_count{${pool}}`));
    // The two pg_sleep(0.2) transactions took longer than 0.1 s: at most the others fit under it.
    expect(sample(r.body, `weir_transaction_seconds_bucket{${pool},le="0.1"}`)).toBeLessThanOrEqual(sample(r.body, `weir_transaction_seconds_count{${pool}}`)! - 2);
    expect(sample(r.body, 'weir_pool_connections{pool="app@appdb",kind="static",state="idle"}')).toBe(1);
    expect(r.body).toMatch(/^weir_clients\{pool="app@appdb",database="appdb",user="app",state="waiting"\} 0$/m);
  });

  it('plugins register theirs: prepared statements hits, misses and registry bytes', async () => {
    const mport = await freePort();
    const other = await stack.startAnotherWeir({ general: { metrics_port: mport }, plugins: 'plugins:\n  prepared_statements:\n    enabled: true\n' });
    const c = new pg.Client({ ...stack.conn(), port: other.port });
    await c.connect();
    for (let i = 0; i < 3; i++) await c.query({ name: 'answer', text: 'SELECT $1::int AS v', values: [i] });
    await c.end();
    const saved = port;
    port = mport;
    try {
      const r = await get('/metrics');
      expect(sample(r.body, 'weir_prepared_statements_misses_total{pool="app@appdb"}')).toBeGreaterThanOrEqual(1);
      expect(sample(r.body, 'weir_prepared_statements_hits_total{pool="app@appdb"}')).toBeGreaterThanOrEqual(1);
      expect(sample(r.body, 'weir_prepared_statement_registry_bytes')).toBe('SELECT $1::int AS v'.length);
      expect(r.body).toContain('# TYPE weir_prepared_statements_evictions_total counter');
      // docs/grafana-dashboard.json reads only metrics weir serves: these, or those of plugins not
      // enabled here (auth_query, idle_gc), registered in their sources.
      const dashboard = readFileSync(path.resolve(__dirname, '../docs/grafana-dashboard.json'), 'utf8');
      const used = new Set([...dashboard.matchAll(/\bweir_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
      expect(used.size).toBeGreaterThan(10);
      const sources = ['auth-query', 'idle-gc'].map((d) => readFileSync(path.resolve(__dirname, `../plugins/${d}/src/plugin.ts`), 'utf8')).join('\n');
      for (const name of used) {
        const served = r.body.includes(`# TYPE ${name} `);
        expect(served || sources.includes(`'${name}'`), name).toBe(true);
      }
    } finally {
      port = saved;
    }
  });

  it('anything else is 404; only GET', async () => {
    expect((await get('/nope')).status).toBe(404);
  });
});

describe('GET /healthz', () => {
  it('200 while accepting clients, 503 while draining', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const holder = new pg.Client({ ...stack.conn(), port: weir.port });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1');
    const stopping = weir.stop();
    let status = 0;
    for (let i = 0; i < 100 && status !== 503; i++) {
      status = await get('/healthz').then((x) => x.status, () => 0);
      if (status !== 503) await sleep(50);
    }
    expect(status).toBe(503);
    await holder.query('COMMIT').catch(() => {});
    await holder.end().catch(() => {});
    await stopping;
  });
});
