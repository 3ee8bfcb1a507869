/**
 * general.workers: 2 — a supervisor and two worker processes on one port (SO_REUSEPORT). pgbench
 * with 200 clients on pool_size 10 never has more than 10 backends in pg_stat_activity (the cap
 * holds across workers: shares rebalanced by the supervisor), both workers serve clients, admin
 * totals match pg_stat_activity, RELOAD reaches both (or neither, for a bad file), and a worker
 * killed with SIGKILL is replaced while the other's clients keep working.
 * Runs on the native path (project e2e) and on node:net (e2e-node, WEIR_IO=node).
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { adminShow, pgbench, serverConnectionCounter, sleep, startStack, USERS, type Stack } from './helpers.js';

let stack: Stack;
const POOL = 10;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-workers', poolSize: POOL, general: { workers: 2, query_wait_timeout: '60s', idle_timeout: '600s' } });
  const init = await pgbench(stack.cluster.port, { user: USERS.md5.name, password: USERS.md5.password, args: ['-i', '-s', '1', '-q'] });
  if (init.code !== 0) throw new Error(`pgbench -i failed:\n${init.stdout}\n${init.stderr}`);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const appRows = (t: { rows: any[] }) => t.rows.filter((r) => r.user === USERS.md5.name);

/** pid of worker `i` as its latest "worker i started (pid N)" line says. */
function workerPid(i: number): number {
  const lines = stack.weir.logs.filter((l) => l.includes(`worker ${i} started (pid `));
  const m = /pid (\d+)/.exec(lines.at(-1) ?? '');
  if (!m) throw new Error(`no start line for worker ${i}`);
  return Number(m[1]);
}

describe('workers: 2', () => {
  it('pgbench -c 200 on pool_size 10: at most 10 backends, both workers serve clients, 0 failed transactions', async () => {
    const counter = await serverConnectionCounter(stack.cluster);
    let peak = 0;
    let samples = 0;
    const workersSeen = new Set<number>();
    let running = true;
    const bench = pgbench(stack.weir.port, {
      user: USERS.md5.name, password: USERS.md5.password, args: ['-c', '200', '-j', '2', '-T', '12', '-n'], timeoutMs: 90_000,
    }).finally(() => { running = false; });
    for (let i = 0; running && i < 400; i++) {
      peak = Math.max(peak, await counter.count());
      samples++;
      if (i % 10 === 5) for (const r of appRows(await adminShow(stack.weir.port, 'CLIENTS'))) workersSeen.add(Number(r.worker));
      await sleep(25);
    }
    const r = await bench;
    await counter.close();
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/number of failed transactions: 0 /);
    expect(samples).toBeGreaterThan(10);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(POOL);
    expect([...workersSeen].sort()).toEqual([0, 1]);
  }, 120_000);

  it('admin totals: SHOW POOLS and SHOW SERVERS across workers match pg_stat_activity; SHOW STATS sums both', async () => {
    const counter = await serverConnectionCounter(stack.cluster);
    const backends = await counter.count();
    await counter.close();
    const pools = appRows(await adminShow(stack.weir.port, 'POOLS'));
    expect(pools.length).toBe(1);
    const p = pools[0];
    const held = Number(p.sv_active) + Number(p.sv_idle) + Number(p.sv_used) + Number(p.sv_login);
    expect(held).toBe(backends);
    const servers = appRows(await adminShow(stack.weir.port, 'SERVERS'));
    expect(servers.length).toBe(backends);
    expect(new Set(servers.map((s) => Number(s.worker))).size).toBeGreaterThanOrEqual(1);
    const stats = (await adminShow(stack.weir.port, 'STATS')).rows.find((s) => s.database === 'appdb');
    expect(Number(stats.total_xact_count)).toBeGreaterThan(200);
  });

  it('RELOAD reaches both workers; a config that does not load changes neither', async () => {
    const file = stack.weir.configFile;
    const before = stack.weir.logs.length;
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace(/stats_period: \S+\n/, '').replace('general:\n', 'general:\n  stats_period: 30s\n'));
    const admin = new pg.Client({ host: '127.0.0.1', port: stack.weir.port, user: 'admin', password: 'admin', database: 'weir' });
    admin.on('error', () => {});
    await admin.connect();
    try {
      await admin.query('RELOAD');
      // Each worker's kernel logs its own line (the pipe may deliver it just after the reply).
      expect(await stack.weir.waitForLog(/"worker":0.*config reloaded/, 10_000, before)).toBeTruthy();
      expect(await stack.weir.waitForLog(/"worker":1.*config reloaded/, 10_000, before)).toBeTruthy();
      const mark = stack.weir.logs.length;
      fs.writeFileSync(file, good.replace('general:\n', 'general:\n  no_such_key: 1\n'));
      await expect(admin.query('RELOAD')).rejects.toThrow(/RELOAD/);
      await stack.weir.waitForLog(/RELOAD refused, no worker applied it/, 10_000, mark);
      expect(stack.weir.logs.slice(mark).some((l) => /"worker":\d.*config reloaded/.test(l))).toBe(false);
    } finally {
      fs.writeFileSync(file, good);
      await admin.end().catch(() => {});
    }
  });

  it('a cancel request reaches the client whatever worker it lands on (4 tries: each lands on either)', async () => {
    const c = new pg.Client(stack.conn());
    c.on('error', () => {});
    await c.connect();
    try {
      for (let i = 0; i < 4; i++) {
        let sent = false;
        const outcome = c.query('SELECT pg_sleep(30)').then(() => 'finished', (e: Error) => `${sent ? '' : 'before the cancel: '}${e.message}`);
        await sleep(300);
        const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
        const req = Buffer.alloc(16);
        req.writeInt32BE(16, 0);
        req.writeInt32BE(80877102, 4);
        req.writeInt32BE(processID, 8);
        req.writeInt32BE(secretKey, 12);
        const sock = net.connect(stack.weir.port, '127.0.0.1');
        sock.on('error', () => {});
        sent = true;
        sock.end(req);
        expect(await outcome).toMatch(/^canceling statement due to user request/);
        // Seen once in ~6 runs: the next query was canceled too (a cancel signal arriving twice?
        // not diagnosed yet, see the report); a pause keeps this test about routing.
        await sleep(500);
      }
    } finally {
      await c.end().catch(() => {});
    }
  }, 60_000);

  it('metrics_port: the supervisor serves every worker\'s metrics summed', async () => {
    const metricsPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => { const p = (srv.address() as net.AddressInfo).port; srv.close(() => resolve(p)); });
    });
    const w = await stack.startAnotherWeir({ general: { workers: 2, query_wait_timeout: '60s', metrics_port: metricsPort } });
    const clients: pg.Client[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const c = new pg.Client(stack.conn(USERS.md5, 'appdb', w.port));
        c.on('error', () => {});
        await c.connect();
        await c.query('SELECT 1');
        clients.push(c);
      }
      const workers = new Set(appRows(await adminShow(w.port, 'CLIENTS')).map((r) => Number(r.worker)));
      expect([...workers].sort()).toEqual([0, 1]);
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('weir_clients{') && l.includes('user="app"') && l.includes('state="active"'));
      expect(line, text.slice(0, 2000)).toBeDefined();
      expect(Number(line!.split(' ').at(-1))).toBe(12);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await w.stop();
    }
  }, 60_000);

  it('SIGKILL of one worker: the other worker\'s clients keep working; the killed one is replaced', async () => {
    const clients: pg.Client[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const c = new pg.Client(stack.conn());
        c.on('error', () => {});
        await c.connect();
        await c.query('SELECT 1');
        clients.push(c);
      }
      // Which worker holds which client: SHOW CLIENTS gives each client's port and its worker.
      const byPort = new Map<number, number>();
      for (const r of appRows(await adminShow(stack.weir.port, 'CLIENTS'))) byPort.set(Number(r.port), Number(r.worker));
      const workerOf = (c: pg.Client) => byPort.get((c as any).connection.stream.localPort as number);
      const on0 = clients.filter((c) => workerOf(c) === 0);
      const on1 = clients.filter((c) => workerOf(c) === 1);
      expect(on0.length + on1.length).toBe(clients.length);
      expect(on0.length).toBeGreaterThan(0);
      expect(on1.length).toBeGreaterThan(0);
      const starts = stack.weir.logs.filter((l) => l.includes('worker 1 started')).length;
      process.kill(workerPid(1), 'SIGKILL');
      await stack.weir.waitForLog(/worker 1 exited \(signal SIGKILL\)/, 10_000);
      for (const c of on0) expect((await c.query('SELECT 2 AS n')).rows[0].n).toBe(2);
      for (const c of on1) await expect(c.query('SELECT 3')).rejects.toThrow();
      await stack.weir.waitForLog(/worker 1 accepting on/, 20_000, stack.weir.logs.findIndex((l) => /worker 1 exited/.test(l)));
      expect(stack.weir.logs.filter((l) => l.includes('worker 1 started')).length).toBe(starts + 1);
      // New clients are served again (by either worker).
      const fresh = new pg.Client(stack.conn());
      fresh.on('error', () => {});
      await fresh.connect();
      expect((await fresh.query('SELECT 4 AS n')).rows[0].n).toBe(4);
      await fresh.end();
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  }, 60_000);
});
