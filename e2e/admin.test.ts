/**
 * Admin console commands that change what weir does — PAUSE/RESUME, RELOAD (console and
 * SIGHUP, valid and invalid files), SHUTDOWN — and SIGINT (fast shutdown).
 */
import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminShow, queryOnce, rejection, serverConnectionCounter, sleep, startStack, USERS, type Stack } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-admin', poolMode: 'transaction', poolSize: 2, general: { query_wait_timeout: '60s' } });
  await stack.cluster.query(`CREATE TABLE t (v text); GRANT ALL ON t TO PUBLIC;`, [], { database: 'appdb' });
});

afterAll(async () => {
  await stack?.stop();
});

async function admin(port = stack.weir.port): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'admin', database: 'weir' });
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function client(port = stack.weir.port): Promise<pg.Client> {
  const c = new pg.Client(stack.conn(USERS.md5, 'appdb', port));
  c.on('error', () => {});
  await c.connect();
  return c;
}

const poolRow = async (port = stack.weir.port) =>
  (await adminShow(port, 'POOLS')).rows.find((r) => r.database === 'appdb' && r.user === USERS.md5.name);

/** Track whether a promise settled, without awaiting it. */
function track<T>(p: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  const done = p.then((v) => { state.settled = true; state.value = v; }, (e) => { state.settled = true; state.error = e; });
  return { state, done };
}

describe('PAUSE / RESUME', () => {
  it('PAUSE waits for an open transaction to end; queries then wait until RESUME', async () => {
    const a = await client();
    const adm = await admin();
    try {
      await a.query('BEGIN');
      await a.query(`INSERT INTO t VALUES ('during-pause')`);
      const pause = track(adm.query('PAUSE'));
      // The transaction can go on while PAUSE waits for it.
      await a.query(`INSERT INTO t VALUES ('during-pause-2')`);
      await sleep(200);
      expect(pause.state.settled).toBe(false);
      await a.query('COMMIT');
      await pause.done;
      expect(pause.state.error).toBeUndefined();

      // Paused: a new query waits (it is counted as waiting), and is not answered.
      const b = await client();
      try {
        const q = track(b.query('select 11 as n'));
        let waiting = 0;
        for (let i = 0; i < 100 && waiting === 0; i++) {
          waiting = Number((await poolRow())?.cl_waiting ?? 0);
          if (waiting === 0) await sleep(50);
        }
        expect(waiting).toBeGreaterThanOrEqual(1);
        expect(q.state.settled).toBe(false);
        await adm.query('RESUME');
        await q.done;
        expect(q.state.error).toBeUndefined();
        expect((q.state.value as pg.QueryResult).rows[0].n).toBe(11);
      } finally {
        await b.end().catch(() => {});
      }
    } finally {
      await adm.query('RESUME').catch(() => {});
      await Promise.all([a.end().catch(() => {}), adm.end().catch(() => {})]);
    }
    const rows = await stack.cluster.query(`select count(*)::int as n from t where v like 'during-pause%'`, [], { database: 'appdb' });
    expect(rows[0].n).toBe(2);
  });
});

describe('RELOAD', () => {
  it('admin RELOAD applies a new pool_size: SHOW POOLS and pg_stat_activity follow it', async () => {
    const counter = await serverConnectionCounter(stack.cluster);
    const adm = await admin();
    try {
      expect(Number((await poolRow())!.pool_size)).toBe(2);
      await stack.weir.reload(stack.config.replace('pool_size: 2', 'pool_size: 3')); // also SIGHUP; RELOAD again is harmless
      const r = await adm.query('RELOAD');
      expect(r.command).toBe('RELOAD');
      let size = 0;
      for (let i = 0; i < 50 && size !== 3; i++) {
        size = Number((await poolRow())?.pool_size);
        if (size !== 3) await sleep(100);
      }
      expect(size).toBe(3);

      // 12 concurrent holders of a transaction → at most 3 server connections for the pool.
      let max = 0;
      let polling = true;
      const poller = (async () => {
        for (let i = 0; i < 2_000 && polling; i++) {
          const n = await stack.cluster.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity where datname = 'appdb' and usename = $1`, [USERS.md5.name]);
          max = Math.max(max, n[0]!.n);
          await sleep(10);
        }
      })();
      await Promise.all(Array.from({ length: 12 }, async () => {
        const c = await client();
        try {
          await c.query('BEGIN');
          await c.query('select pg_sleep(0.05)');
          await c.query('COMMIT');
        } finally {
          await c.end();
        }
      }));
      polling = false;
      await poller;
      expect(max).toBeLessThanOrEqual(3);
      expect(max).toBeGreaterThanOrEqual(1);
    } finally {
      await adm.end().catch(() => {});
      await counter.close();
    }
  });

  it('an invalid file on RELOAD is an error and the running config is kept', async () => {
    const adm = await admin();
    try {
      await stack.weir.reload(stack.config.replace('pool_mode: transaction', 'pool_mode: nonsense').replace('pool_size: 2', 'pool_size: 3'));
      const e = await rejection(adm.query('RELOAD'));
      expect(e.code).toMatch(/^[0-9A-Z]{5}$/);
      expect(e.message).toMatch(/pool_mode/);
      const row = await poolRow();
      expect(row.pool_mode).toBe('transaction');
      expect((await queryOnce(stack.conn(), 'select 1 as n'))[0].n).toBe(1);
    } finally {
      await adm.end().catch(() => {});
    }
  });

  it('SIGHUP reloads the file (pool_size back to 2) and logs it', async () => {
    const mark = stack.weir.logs.length;
    await stack.weir.reload(stack.config); // pool_size: 2
    await stack.weir.waitForLog(/reload/i, 10_000, mark);
    let size = 0;
    for (let i = 0; i < 50 && size !== 2; i++) {
      size = Number((await poolRow())?.pool_size);
      if (size !== 2) await sleep(100);
    }
    expect(size).toBe(2);
    expect((await queryOnce(stack.conn(), 'select 1 as n'))[0].n).toBe(1);
  });

  it('SIGHUP with an invalid file keeps weir running with its config and says why', async () => {
    const mark = stack.weir.logs.length;
    await stack.weir.reload('general: [this is: not valid\n');
    const line = await stack.weir.waitForLog(/reload|config/i, 10_000, mark);
    expect(line).toMatch(/reject|invalid|fail|error/i);
    expect((await queryOnce(stack.conn(), 'select 1 as n'))[0].n).toBe(1);
    expect(Number((await poolRow())!.pool_size)).toBe(2);
    await stack.weir.reload(stack.config);
  });
});

describe('shutting down', () => {
  it('admin SHUTDOWN: weir exits and stops listening', async () => {
    const w = await stack.startAnotherWeir({});
    const adm = await admin(w.port);
    const exited = once(w.process, 'exit');
    await adm.query('SHUTDOWN').catch(() => {});
    await adm.end().catch(() => {});
    const outcome = await Promise.race([exited.then(([code]) => ({ code })), sleep(30_000).then(() => 'still running')]);
    expect(outcome, w.logs.slice(-10).join('\n')).toEqual({ code: 0 });
    const e = await rejection(queryOnce({ ...stack.conn(USERS.md5, 'appdb', w.port), connectionTimeoutMillis: 5_000 }, 'select 1'));
    expect(e).toBeDefined();
    await w.stop();
  });

  it('SIGTERM with a transaction that never ends: cut after shutdown_timeout (2s), not committed, exit 0', async () => {
    const w = await stack.startAnotherWeir({ general: { shutdown_timeout: '2s' } });
    const c = await client(w.port);
    const idle = await client(w.port); // a client that runs no transaction: closed at shutdown_timeout
    await c.query('BEGIN');
    await c.query(`INSERT INTO t VALUES ('sigterm-timeout')`);
    const code = await w.stop('SIGTERM'); // never COMMIT
    expect(code, w.logs.slice(-10).join('\n')).toBe(0);
    expect(await rejection(c.query('COMMIT'))).toBeDefined();
    expect(await rejection(idle.query('select 1'))).toBeDefined();
    await Promise.all([c.end().catch(() => {}), idle.end().catch(() => {})]);
    const rows = await stack.cluster.query(`select count(*)::int as n from t where v = 'sigterm-timeout'`, [], { database: 'appdb' });
    expect(rows[0].n).toBe(0);
  });

  it('SIGTERM while clients wait for a server: each gets an answer (a result or an error), weir exits 0', async () => {
    const w = await stack.startAnotherWeir({ poolSize: 1, general: { shutdown_timeout: '10s', query_wait_timeout: '60s' } });
    const holder = await client(w.port);
    await holder.query('BEGIN');
    const waiters = await Promise.all(Array.from({ length: 5 }, () => client(w.port)));
    const outcomes = waiters.map((c) => track(c.query('select 1 as n')));
    await sleep(200);
    const exited = w.stop('SIGTERM');
    await sleep(200);
    await holder.query('COMMIT').catch(() => {});
    const code = await exited;
    await Promise.all(outcomes.map((o) => o.done));
    for (const o of outcomes) expect(o.state.settled).toBe(true);
    await Promise.all([holder, ...waiters].map((c) => c.end().catch(() => {})));
    expect(code).toBe(0);
  });

  it('SIGINT: fast shutdown cuts an open transaction (not committed), exit 0', async () => {
    const w = await stack.startAnotherWeir({ general: { shutdown_timeout: '30s' } });
    const c = await client(w.port);
    await c.query('BEGIN');
    await c.query(`INSERT INTO t VALUES ('sigint')`);
    const code = await w.stop('SIGINT');
    const e = await rejection(c.query('COMMIT'));
    expect(e).toBeDefined();
    await c.end().catch(() => {});
    expect(code).toBe(0);
    const rows = await stack.cluster.query(`select count(*)::int as n from t where v = 'sigint'`, [], { database: 'appdb' });
    expect(rows[0].n).toBe(0);
    // Its server connections are gone from PostgreSQL (bounded look).
    let left = -1;
    for (let i = 0; i < 50; i++) {
      left = (await stack.cluster.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = 'appdb' and state = 'idle in transaction'`))[0]!.n;
      if (left === 0) break;
      await sleep(100);
    }
    expect(left).toBe(0);
  });
});
