/**
 * Session pooling on pool_size 1: the one server connection is reused by the next client, and
 * whatever the previous client set on it (GUCs, prepared statements, temp tables, advisory
 * locks, LISTEN) never leaks. Also: a client that vanishes mid-transaction leaves nothing behind.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminShow, rejection, sleep, startStack, USERS, type Stack, type WeirInstance } from './helpers.js';

let stack: Stack;
let txWeir: WeirInstance;

beforeAll(async () => {
  stack = await startStack({
    name: 'e2e-session',
    poolMode: 'session',
    poolSize: 1,
    general: { query_wait_timeout: '60s' },
  });
  txWeir = await stack.startAnotherWeir({ poolMode: 'transaction', poolSize: 1 });
  await stack.cluster.query(
    `CREATE TABLE marks (who text); GRANT ALL ON marks TO PUBLIC;`,
    [],
    { database: 'appdb' },
  );
});

afterAll(async () => {
  await stack?.stop();
});

async function connect(port = stack.weir.port, user: { name: string; password: string } = USERS.md5): Promise<pg.Client> {
  const c = new pg.Client(stack.conn(user, 'appdb', port));
  c.on('error', () => {});
  await c.connect();
  return c;
}

const defaults = async () => {
  const rows = await stack.cluster.query<{ name: string; setting: string }>(
    `select name, setting from pg_settings where name in ('statement_timeout', 'search_path', 'work_mem')`,
    [], { database: 'appdb' },
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
};

describe('session mode, pool_size 1: nothing leaks to the next client', () => {
  let pidA: number;

  it('client A changes its session and disconnects', async () => {
    const a = await connect();
    try {
      pidA = (await a.query('select pg_backend_pid() as p')).rows[0].p;
      await a.query(`SET statement_timeout = '1234'`);
      await a.query(`SET search_path = pg_catalog`);
      await a.query(`SET work_mem = '7777kB'`);
      await a.query('PREPARE p AS SELECT 1');
      await a.query('CREATE TEMP TABLE a_temp (x int)');
      await a.query('select pg_advisory_lock(4242)');
      await a.query('LISTEN a_channel');
      // All really set on A's connection.
      expect((await a.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('1234ms');
      expect((await a.query('EXECUTE p')).rows[0]).toEqual({ '?column?': 1 });
    } finally {
      await a.end();
    }
  });

  it('client B gets the same server connection, reset: default statement_timeout, no prepared statement p', async () => {
    const def = await defaults();
    const b = await connect();
    try {
      const pidB = (await b.query('select pg_backend_pid() as p')).rows[0].p;
      expect(pidB).toBe(pidA); // pool_size 1: the very same server connection was reused
      const st = (await b.query('SHOW statement_timeout')).rows[0].statement_timeout;
      expect(def.statement_timeout).toBe('0');
      expect(st).toBe('0');
      const e = await rejection(b.query('EXECUTE p'));
      expect(e.code).toBe('26000'); // prepared statement "p" does not exist
      expect(e.message).toMatch(/prepared statement "p" does not exist/);
    } finally {
      await b.end();
    }
  });

  it('client C: search_path, work_mem, temp tables, advisory locks and LISTEN were reset too', async () => {
    const c = await connect(stack.weir.port, USERS.md5);
    try {
      const sp = (await c.query('SHOW search_path')).rows[0].search_path;
      expect(sp).not.toBe('pg_catalog');
      expect((await c.query('SHOW work_mem')).rows[0].work_mem).not.toBe('7777kB');
      const t = await c.query(`select count(*)::int as n from pg_class where relname = 'a_temp'`);
      expect(t.rows[0].n).toBe(0);
      const locks = await c.query(`select count(*)::int as n from pg_locks where locktype = 'advisory'`);
      expect(locks.rows[0].n).toBe(0);
      const ch = await c.query(`select count(*)::int as n from pg_listening_channels()`);
      expect(ch.rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('a second client waits for the only server connection and gets it once the first leaves', async () => {
    const a = await connect();
    await a.query('select 1');
    // B may be made to wait at login or at its first query: either way, do not block on it here.
    const bQuery = (async () => {
      const b = await connect();
      try {
        return await b.query('select pg_backend_pid() as p, 5 as n');
      } finally {
        await b.end().catch(() => {});
      }
    })();
    let settled = false;
    void bQuery.then(() => (settled = true), () => (settled = true));
    try {
      // Bounded look for B being counted as waiting.
      let waiting = 0;
      for (let i = 0; i < 100 && waiting === 0; i++) {
        const { rows } = await adminShow(stack.weir.port, 'POOLS');
        waiting = Number(rows.find((r) => r.database === 'appdb' && r.user === USERS.md5.name)?.cl_waiting ?? 0);
        if (waiting === 0) await sleep(50);
      }
      expect(waiting).toBe(1);
      expect(settled).toBe(false);
      expect(await stack.cluster.serverConnections('appdb')).toBe(1);
    } finally {
      await a.end();
    }
    const r = await bQuery;
    expect(r.rows[0].n).toBe(5);
  });
});

describe('a client that vanishes mid-transaction leaves nothing behind', () => {
  for (const mode of ['session', 'transaction'] as const) {
    it(`${mode} mode, pool_size 1`, async () => {
      const port = mode === 'session' ? stack.weir.port : txWeir.port;
      const tag = `vanish-${mode}`;
      const a = await connect(port);
      await a.query('BEGIN');
      await a.query('INSERT INTO marks VALUES ($1)', [`${tag}-a`]);
      await a.query(`SET LOCAL statement_timeout = '4321'`);
      // Drop the socket without Terminate.
      (a as any).connection.stream.destroy();
      await a.end().catch(() => {});

      const b = await connect(port);
      try {
        expect((await b.query('SHOW statement_timeout')).rows[0].statement_timeout).not.toBe('4321ms');
        await b.query('INSERT INTO marks VALUES ($1)', [`${tag}-b`]);
      } finally {
        await b.end();
      }
      const rows = await stack.cluster.query<{ who: string }>(
        `select who from marks where who like $1 order by who`, [`${tag}-%`], { database: 'appdb' },
      );
      // A's insert was never committed; B's autocommit insert is committed (B was not inside A's transaction).
      expect(rows.map((r) => r.who)).toEqual([`${tag}-b`]);
    });
  }
});

describe('a client that vanishes in the middle of a long query does not hold the only server', () => {
  for (const mode of ['session', 'transaction'] as const) {
    it(`${mode} mode, pool_size 1: pg_sleep(3600) then the socket is dropped; the next client is served`, async () => {
      const port = mode === 'session' ? stack.weir.port : txWeir.port;
      const a = await connect(port);
      const q = a.query(`select pg_sleep(3600) /* vanish-long-${mode} */`).catch(() => {});
      // Wait (bounded) until the server really runs it.
      let running = false;
      for (let i = 0; i < 200 && !running; i++) {
        running = (await stack.cluster.query(
          `select 1 from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()`,
          [`%vanish-long-${mode}%`],
        )).length > 0;
        if (!running) await sleep(25);
      }
      expect(running).toBe(true);
      (a as any).connection.stream.destroy();
      await q;
      await a.end().catch(() => {});

      // query_wait_timeout is 60s: if weir kept the server busy with the orphaned hour-long
      // query, this would fail; it must cancel or close that server connection instead.
      const b = new pg.Client({ ...stack.conn(USERS.md5, 'appdb', port), query_timeout: 120_000 } as pg.ClientConfig);
      b.on('error', () => {});
      try {
        await b.connect();
        expect((await b.query('select 6 as n')).rows[0].n).toBe(6);
      } finally {
        await b.end().catch(() => {});
      }
      const left = await stack.cluster.query(
        `select pid from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()`,
        [`%vanish-long-${mode}%`],
      );
      expect(left).toEqual([]);
    });
  }
});
