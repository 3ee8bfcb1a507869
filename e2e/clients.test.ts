/**
 * Real client libraries through weir: node-postgres (Client, Pool, parameters, transactions,
 * notices, per-client application_name) and postgres.js (tagged templates, with and without
 * prepared statements).
 */
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWeirBin } from '@weir/testkit';
import {
  frontendMessage,
  queryMessage,
  rawLogin,
  rejection,
  run,
  sleep,
  startStack,
  USERS,
  type RawSession,
  type Stack,
  type WeirInstance,
} from './helpers.js';

const POOL_SIZE = 4;
let stack: Stack;
let sessionWeir: WeirInstance;

beforeAll(async () => {
  stack = await startStack({
    name: 'e2e-clients',
    poolMode: 'transaction',
    poolSize: POOL_SIZE,
    general: { query_wait_timeout: '30s' },
  });
  sessionWeir = await stack.startAnotherWeir({ poolMode: 'session', poolSize: 10 });
  await stack.cluster.query(
    `CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL, v text);
     GRANT ALL ON items, items_id_seq TO PUBLIC;`,
    [],
    { database: 'appdb' },
  );
});

afterAll(async () => {
  await stack?.stop();
});

async function withClient<T>(config: pg.ClientConfig, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(config);
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

describe('node-postgres', () => {
  it('pg.Client: simple and parameterized queries, types and NULL', async () => {
    await withClient(stack.conn(), async (c) => {
      expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      const r = await c.query('select $1::int + $2::int as sum, $3::text as t, $4::text as n, $5::bytea as b',
        [2, 40, 'héllo wörld', null, Buffer.from([0, 1, 2, 255])]);
      expect(r.rows[0]).toEqual({ sum: 42, t: 'héllo wörld', n: null, b: Buffer.from([0, 1, 2, 255]) });
      // Many parameterized queries in a row on the same client (extended protocol, unnamed statements).
      for (let i = 0; i < 50; i++) {
        expect((await c.query('select $1::int * 2 as d', [i])).rows[0].d).toBe(i * 2);
      }
    });
  });

  it('pg.Client: 30 queries queued at once come back in order (pg sends each after the previous ReadyForQuery)', async () => {
    await withClient(stack.conn(), async (c) => {
      const ps = Array.from({ length: 30 }, (_, i) => c.query('select $1::int as i', [i]));
      const rows = await Promise.all(ps);
      expect(rows.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });
  });

  it('pg.Pool: 20 concurrent queries on pool_size 4 all succeed, each with its own answer', async () => {
    const pool = new pg.Pool({ ...stack.conn(), max: 20 });
    pool.on('error', () => {});
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          pool.query('select $1::int as i, pg_backend_pid() as pid, pg_sleep(0.05)', [i])),
      );
      expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const pids = new Set(results.map((r) => r.rows[0].pid));
      expect(pids.size).toBeLessThanOrEqual(POOL_SIZE);
      expect(pool.totalCount).toBeGreaterThan(POOL_SIZE); // the 20 client connections really were concurrent
    } finally {
      await pool.end();
    }
  });

  it('pg.Pool: 200 queries over 20 clients, several rounds', async () => {
    const pool = new pg.Pool({ ...stack.conn(USERS.scram), max: 20 });
    pool.on('error', () => {});
    try {
      for (let round = 0; round < 3; round++) {
        const rs = await Promise.all(
          Array.from({ length: 200 }, (_, i) => pool.query('select $1::int + $2::int as s', [i, round])),
        );
        rs.forEach((r, i) => expect(r.rows[0].s).toBe(i + round));
      }
    } finally {
      await pool.end();
    }
  });

  it('transaction BEGIN/INSERT/COMMIT: the rows are there and the backend is pinned', async () => {
    await withClient(stack.conn(), async (c) => {
      await c.query('BEGIN');
      const pid1 = (await c.query('select pg_backend_pid() as p')).rows[0].p;
      await c.query('INSERT INTO items (owner, v) VALUES ($1, $2)', ['tx', 'a']);
      // Other clients keep running meanwhile (and must not land on our server connection).
      await Promise.all(Array.from({ length: 8 }, () =>
        withClient(stack.conn(), async (o) => {
          const seen = await o.query(`select count(*)::int as n from items where owner = 'tx'`);
          expect(seen.rows[0].n).toBe(0); // not committed yet
        })));
      await c.query('INSERT INTO items (owner, v) VALUES ($1, $2)', ['tx', 'b']);
      const pid2 = (await c.query('select pg_backend_pid() as p')).rows[0].p;
      expect(pid2).toBe(pid1);
      await c.query('COMMIT');
    });
    const rows = await stack.cluster.query(`select v from items where owner = 'tx' order by v`, [], { database: 'appdb' });
    expect(rows.map((r) => r.v)).toEqual(['a', 'b']);
  });

  it('transaction ROLLBACK and an error inside a transaction leave nothing behind; the client goes on', async () => {
    await withClient(stack.conn(), async (c) => {
      await c.query('BEGIN');
      await c.query('INSERT INTO items (owner, v) VALUES ($1, $2)', ['rb', 'x']);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await c.query('INSERT INTO items (owner, v) VALUES ($1, $2)', ['rb', 'y']);
      const e = await rejection(c.query('select * from no_such_table'));
      expect(e.code).toBe('42P01');
      const e2 = await rejection(c.query('select 1'));
      expect(e2.code).toBe('25P02'); // in failed transaction: still the same server connection
      await c.query('ROLLBACK');
      expect((await c.query('select 3 as n')).rows[0].n).toBe(3);
    });
    const rows = await stack.cluster.query(`select count(*)::int as n from items where owner = 'rb'`, [], { database: 'appdb' });
    expect(rows[0].n).toBe(0);
  });

  it('NOTICE messages reach the client', async () => {
    await withClient(stack.conn(), async (c) => {
      const notices: string[] = [];
      c.on('notice', (n) => notices.push(n.message ?? ''));
      await c.query(`DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$`);
      await c.query('select 1');
      expect(notices).toContain('hello from the server');
    });
  });

  it('application_name is kept per client in transaction mode, with interleaving', async () => {
    const N = 12;
    const clients = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const c = new pg.Client({ ...stack.conn(), application_name: `e2e-client-${i}` });
        c.on('error', () => {});
        await c.connect();
        return c;
      }),
    );
    try {
      for (let round = 0; round < 5; round++) {
        // Order differs per round so that clients land on different server connections.
        const order = clients.map((_, i) => (i * (round + 1) * 7) % N);
        const answers = await Promise.all(
          order.map(async (i) => {
            const c = clients[i]!;
            if ((i + round) % 3 === 0) await c.query('select pg_sleep(0.01)');
            const r = await c.query('SHOW application_name');
            return { i, got: r.rows[0].application_name };
          }),
        );
        for (const a of answers) expect(a.got, `round ${round}`).toBe(`e2e-client-${a.i}`);
      }
      // Also as seen by the server while a client holds a connection.
      const c = clients[3]!;
      await c.query('BEGIN');
      const r = await c.query('select application_name from pg_stat_activity where pid = pg_backend_pid()');
      await c.query('COMMIT');
      expect(r.rows[0].application_name).toBe('e2e-client-3');
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  });

  it('SET application_name by a client is its own too', async () => {
    await withClient({ ...stack.conn(), application_name: 'initial' }, async (a) => {
      await withClient({ ...stack.conn(), application_name: 'other' }, async (b) => {
        await a.query(`SET application_name = 'changed-by-a'`);
        for (let i = 0; i < 10; i++) {
          const [ra, rb] = await Promise.all([a.query('SHOW application_name'), b.query('SHOW application_name')]);
          expect(ra.rows[0].application_name).toBe('changed-by-a');
          expect(rb.rows[0].application_name).toBe('other');
        }
      });
    });
  });
});

describe('more protocol paths (transaction mode)', () => {
  it('an error in the extended protocol (bad parameter) leaves the client and pool usable', async () => {
    await withClient(stack.conn(), async (c) => {
      const e = await rejection(c.query('select $1::int as n', ['not-an-int']));
      expect(e.code).toBe('22P02');
      expect((await c.query('select $1::int as n', [5])).rows[0].n).toBe(5);
    });
  });

  it('a multi-statement simple query returns every result', async () => {
    await withClient(stack.conn(), async (c) => {
      const r = (await c.query(`select 1 as a; select 'two' as b; select 3 as c`)) as unknown as pg.QueryResult[];
      expect(r.map((x) => x.rows[0])).toEqual([{ a: 1 }, { b: 'two' }, { c: 3 }]);
    });
  });

  it('a simple query that leaves a transaction open keeps the server until COMMIT', async () => {
    await withClient(stack.conn(), async (c) => {
      await c.query(`BEGIN; INSERT INTO items (owner, v) VALUES ('multi', 'x')`);
      const pid = (await c.query('select pg_backend_pid() as p')).rows[0].p;
      await Promise.all(Array.from({ length: 6 }, () => withClient(stack.conn(), (o) => o.query('select pg_sleep(0.02)'))));
      expect((await c.query('select pg_backend_pid() as p')).rows[0].p).toBe(pid);
      expect((await c.query(`select count(*)::int as n from items where owner = 'multi'`)).rows[0].n).toBe(1);
      await c.query('COMMIT');
    });
  });

  it('large values cross weir intact (8 MiB bytea parameter and result)', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    const { createHash } = await import('node:crypto');
    await withClient(stack.conn(), async (c) => {
      const r = await c.query('select md5($1::bytea) as h, length($1::bytea) as n', [big]);
      expect(r.rows[0]).toEqual({ h: createHash('md5').update(big).digest('hex'), n: big.length });
      const echo = await c.query('select $1::bytea as b', [big]);
      expect(Buffer.compare(echo.rows[0].b, big)).toBe(0);
      const text = await c.query(`select repeat('é', 3000000) as t`);
      expect(text.rows[0].t.length).toBe(3_000_000);
    });
  });

  it('startup parameters TimeZone, DateStyle and client_encoding are kept per client, with interleaving', async () => {
    const zones = ['Asia/Tokyo', 'America/New_York', 'Europe/Paris', 'UTC'];
    const styles = ['ISO, MDY', 'SQL, DMY', 'German, DMY', 'Postgres, YMD'];
    const clients = zones.map((tz, i) => postgres(stack.url(), {
      max: 1, prepare: false, onnotice: () => {},
      connection: { TimeZone: tz, DateStyle: styles[i]!, application_name: `tz-${i}` },
    }));
    try {
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all(clients.map(async (sql, i) => {
          if ((i + round) % 2 === 0) await sql`select pg_sleep(0.01)`;
          const [r] = await sql`select current_setting('TimeZone') as tz, current_setting('DateStyle') as ds`;
          return { i, tz: r!.tz, ds: r!.ds };
        }));
        for (const a of answers) expect({ tz: a.tz, ds: a.ds }, `round ${round}`).toEqual({ tz: zones[a.i], ds: styles[a.i] });
      }
    } finally {
      await Promise.all(clients.map((sql) => sql.end({ timeout: 5 })));
    }
    // client_encoding via psql (PGCLIENTENCODING), while a UTF8 client shares the pool.
    const { psql } = await import('./helpers.js');
    await withClient(stack.conn(), async (utf8) => {
      const r = await psql(stack.weir.port, {
        user: USERS.md5.name, password: USERS.md5.password, env: { PGCLIENTENCODING: 'LATIN1' },
        args: ['-c', 'show client_encoding', '-c', 'select pg_sleep(0.05)', '-c', 'show client_encoding'],
      });
      expect((await utf8.query('show client_encoding')).rows[0].client_encoding).toBe('UTF8');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').filter((l) => l !== '')).toEqual(['LATIN1', 'LATIN1']);
    });
  });
});

describe('postgres.js', () => {
  async function exercise(sql: postgres.Sql, tag: string) {
    const [one] = await sql`select ${1}::int as x, ${'text'}::text as t`;
    expect(one).toEqual({ x: 1, t: 'text' });
    // The same query shape many times (re-uses statements where prepared).
    for (let i = 0; i < 20; i++) {
      const [r] = await sql`select ${i}::int * 3 as y`;
      expect(r!.y).toBe(i * 3);
    }
    // 50 concurrent queries on max: 10.
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => sql`select ${i}::int as i, ${tag}::text as tag`));
    rs.forEach((r, i) => expect(r[0]).toEqual({ i, tag }));
    // A transaction.
    await sql.begin(async (tx) => {
      await tx`insert into items (owner, v) values (${tag}, ${'one'})`;
      await tx`insert into items (owner, v) values (${tag}, ${'two'})`;
    });
    const rows = await sql`select v from items where owner = ${tag} order by v`;
    expect(rows.map((r) => r.v)).toEqual(['one', 'two']);
    // Dynamic identifiers / helpers.
    const [h] = await sql`select ${sql('owner')} from items where owner = ${tag} limit 1`;
    expect(h!.owner).toBe(tag);
  }

  it('transaction mode, prepare: false', async () => {
    const sql = postgres(stack.url(), { max: 10, prepare: false, onnotice: () => {} });
    try {
      await exercise(sql, 'pgjs-noprep');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('transaction mode, prepare: false, SCRAM-verifier user', async () => {
    const sql = postgres(stack.url(USERS.scram), { max: 10, prepare: false, onnotice: () => {} });
    try {
      await exercise(sql, 'pgjs-noprep-scram');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('session mode, default prepare (named prepared statements)', async () => {
    const sql = postgres(stack.url(USERS.md5, 'appdb', sessionWeir.port), { max: 10, onnotice: () => {} });
    try {
      await exercise(sql, 'pgjs-prep-session');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('transaction mode, default prepare (named statements), prepared_statements plugin on (skipped if this weir lacks the plugin)', async (ctx) => {
    const plugins = 'plugins:\n  prepared_statements: { enabled: true, max_per_connection: 1000 }\n';
    // Does this weir know the plugin? `weir check` answers without starting anything.
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'weir-e2e-ps-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `general: { host: 127.0.0.1, port: 6432, admin_user: a, admin_password: a }\n${plugins}pools: {}\n`);
    const probe = await run(process.execPath, [defaultWeirBin(), 'check', '--config', file]);
    rmSync(dir, { recursive: true, force: true });
    if (probe.code !== 0) ctx.skip();
    const w = await stack.startAnotherWeir({ poolMode: 'transaction', poolSize: POOL_SIZE, plugins });
    const sql = postgres(stack.url(USERS.md5, 'appdb', w.port), { max: 10, onnotice: () => {} });
    try {
      await exercise(sql, 'pgjs-prep-tx');
    } finally {
      await sql.end({ timeout: 5 });
      await w.stop();
    }
  });

  it('LISTEN/NOTIFY pass through in session mode', async () => {
    const sql = postgres(stack.url(USERS.md5, 'appdb', sessionWeir.port), { max: 1, onnotice: () => {} });
    try {
      const got: string[] = [];
      let resolve!: () => void;
      const arrived = new Promise<void>((r) => (resolve = r));
      await sql.listen('e2e_channel', (payload) => {
        got.push(payload);
        resolve();
      });
      await stack.cluster.query(`NOTIFY e2e_channel, 'ping'`, [], { database: 'appdb' });
      await Promise.race([arrived, new Promise((r) => setTimeout(r, 10_000))]);
      expect(got).toEqual(['ping']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// True pipelining: several requests in one TCP write, before any answer. pg does not do this
// (it waits for ReadyForQuery); postgres.js and JDBC batches do.

const cstr = (v: string) => Buffer.from(`${v}\0`);
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
/** Unnamed Parse/Bind/Execute/Sync of a parameterless query. */
const extendedQuery = (sql: string) => Buffer.concat([
  frontendMessage('P', Buffer.concat([cstr(''), cstr(sql), int16(0)])),
  frontendMessage('B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(0), int16(0)])),
  frontendMessage('E', Buffer.concat([cstr(''), int32(0)])),
  frontendMessage('S'),
]);

/** Read messages until `readyCount` ReadyForQuery; return the text of every DataRow's first column and the message types. */
async function collect(s: RawSession, readyCount: number): Promise<{ values: string[]; types: string; error?: string }> {
  const values: string[] = [];
  let types = '';
  let z = 0;
  try {
    while (z < readyCount) {
      const m = await s.readMsg(10_000);
      types += m.type;
      if (m.type === 'Z') z++;
      if (m.type === 'D') {
        const n = m.body.readInt16BE(0);
        let off = 2;
        const cols: string[] = [];
        for (let i = 0; i < n; i++) {
          const len = m.body.readInt32BE(off);
          off += 4;
          cols.push(len < 0 ? 'NULL' : m.body.toString('utf8', off, off + len));
          off += Math.max(len, 0);
        }
        values.push(cols.join('|'));
      }
    }
  } catch (e) {
    return { values, types, error: (e as Error).message };
  }
  return { values, types };
}

describe('pipelining (transaction mode)', () => {
  it('two simple Query messages in one write: both answered, in order', async () => {
    for (let round = 0; round < 10; round++) {
      const s = await rawLogin(stack.weir.port);
      try {
        s.socket.write(Buffer.concat([queryMessage(`select 'q1'`), queryMessage(`select 'q2'`)]));
        const r = await collect(s, 2);
        expect(r, `round ${round}`).toEqual({ values: ['q1', 'q2'], types: 'TDCZTDCZ' });
      } finally {
        s.socket.destroy();
      }
    }
  });

  it('a slow second query pipelined behind a fast one is answered', async () => {
    const s = await rawLogin(stack.weir.port);
    try {
      s.socket.write(Buffer.concat([queryMessage(`select 'fast'`), queryMessage(`select 'slow' from pg_sleep(0.2)`)]));
      expect(await collect(s, 2)).toEqual({ values: ['fast', 'slow'], types: 'TDCZTDCZ' });
    } finally {
      s.socket.destroy();
    }
  });

  it('two extended-protocol Parse/Bind/Execute/Sync in one write: both answered', async () => {
    for (let round = 0; round < 10; round++) {
      const s = await rawLogin(stack.weir.port);
      try {
        s.socket.write(Buffer.concat([extendedQuery(`select 'e1'`), extendedQuery(`select 'e2' from pg_sleep(0.05)`)]));
        const r = await collect(s, 2);
        expect(r, `round ${round}`).toEqual({ values: ['e1', 'e2'], types: '12DCZ12DCZ' });
      } finally {
        s.socket.destroy();
      }
    }
  });

  it('COPY TO STDOUT with a query pipelined behind it: both answered', async () => {
    const s = await rawLogin(stack.weir.port);
    try {
      s.socket.write(Buffer.concat([
        queryMessage('copy (select g from generate_series(1, 5000) g) to stdout'),
        queryMessage(`select 'after-copy'`),
      ]));
      const r = await collect(s, 2);
      expect(r.error, r.types.slice(-20)).toBeUndefined();
      expect(r.values).toEqual(['after-copy']);
    } finally {
      s.socket.destroy();
    }
  });

  it('a pipelined answer never reaches another client (pool_size 1)', async () => {
    const w = await stack.startAnotherWeir({ poolMode: 'transaction', poolSize: 1 });
    try {
      const a = await rawLogin(w.port);
      try {
        a.socket.write(Buffer.concat([queryMessage(`select 'a1'`), queryMessage(`select 'a2-private' from pg_sleep(0.3)`)]));
        // After A's first ReadyForQuery, B asks on the same (only) server connection's pool.
        const first = await a.readMsg(10_000);
        expect(first.type).toBe('T');
        let m = first;
        while (m.type !== 'Z') m = await a.readMsg(10_000);
        const b = (async () => {
          const c = new pg.Client(stack.conn(USERS.md5, 'appdb', w.port));
          c.on('error', () => {});
          await c.connect();
          try {
            return (await c.query(`select 'b-own' as v`)).rows;
          } finally {
            await c.end().catch(() => {});
          }
        })();
        const bOutcome = await Promise.race([b, sleep(15_000).then(() => 'B got no answer')]);
        const aRest = await collect(a, 1);
        expect(bOutcome).toEqual([{ v: 'b-own' }]);
        expect(aRest.values).toEqual(['a2-private']);
      } finally {
        a.socket.destroy();
      }
    } finally {
      await w.stop();
    }
  });

  it('postgres.js: 100 queries on one connection (it pipelines them) all answered', async () => {
    const sql = postgres(stack.url(), { max: 1, prepare: false, onnotice: () => {} });
    try {
      const outcome = await Promise.race([
        Promise.all(Array.from({ length: 100 }, (_, i) => sql`select ${i}::int as i`)),
        sleep(60_000).then(() => 'stalled' as const),
      ]);
      expect(outcome).not.toBe('stalled');
      expect((outcome as any[]).map((r) => r[0].i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
