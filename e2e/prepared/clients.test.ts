/**
 * Prepared statements through transaction pooling with real clients: node-postgres named
 * queries from many clients, postgres.js `prepare: true` with pipelining, the extended protocol
 * on a raw socket (a failing Parse, names in use, DEALLOCATE / DEALLOCATE ALL / DISCARD ALL,
 * a failed transaction), psql, `SHOW PREPARED_STATEMENTS`, a tiny `max_per_connection` with
 * more statements than that, and session pools left as plain pass-through.
 */
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Msg, parse, bind, describe as describeMsg, execute, close, query, sync } from '@weir/protocol';
import { rawLogin, type RawSession } from '../helpers.js';
import { roundTrip, types, field, dataRows } from './raw.js';
import { psql, startStack, DB, RAW, SESSION_DB, type Stack, type WeirInstance } from './stack.js';

const POOL_SIZE = 4;
let stack: Stack;
let small: WeirInstance;

beforeAll(async () => {
  stack = await startStack('e2e-prepared-clients', { poolSize: POOL_SIZE, maxPerConnection: 100 });
  small = await stack.startWeir({ poolSize: 2, maxPerConnection: 3 });
  await stack.cluster.query('CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)', [], { database: DB });
  await stack.cluster.query(`INSERT INTO items SELECT g, 'item-' || g FROM generate_series(1, 100) g`, [], { database: DB });
  await stack.cluster.query(`GRANT ALL ON items TO app, ${RAW.name}`, [], { database: DB });
});

afterAll(async () => {
  await stack?.stop();
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function row(port: number) {
  return (await stack.show('PREPARED_STATEMENTS', port)).find((r) => r.pool === `app@${DB}`);
}

// ------------------------------------------------------------------ raw protocol

async function raw(): Promise<RawSession> {
  return rawLogin(stack.weir.port, RAW, DB);
}

describe('node-postgres named queries', () => {
  it('50 concurrent clients, 5 statement names, pool_size 4: every row right', async () => {
    const before = await row(stack.weir.port);
    const clients = await Promise.all(range(50).map(async () => {
      const c = new pg.Client(stack.conn());
      c.on('error', () => {});
      await c.connect();
      return c;
    }));
    try {
      await Promise.all(clients.map(async (c, ci) => {
        for (let i = 0; i < 20; i++) {
          const k = (ci + i) % 5;
          const v = ci * 100 + i;
          const r = await c.query({ name: `q${k}`, text: `SELECT $1::int * ${k + 1} AS v, 'q${k}' AS k`, values: [v] });
          expect(r.rows).toEqual([{ v: v * (k + 1), k: `q${k}` }]);
          // One name, two texts: odd and even clients mean different statements by "shared".
          const parity = ci % 2 === 0 ? 'even' : 'odd';
          const s = await c.query({ name: 'shared', text: `SELECT $1::text || '-${parity}' AS s`, values: [String(v)] });
          expect(s.rows).toEqual([{ s: `${v}-${parity}` }]);
          if (i % 5 === 0) {
            await c.query('BEGIN');
            const t = await c.query({ name: 'in-tx', text: 'SELECT label FROM items WHERE id = $1', values: [1 + (v % 100)] });
            expect(t.rows).toEqual([{ label: `item-${1 + (v % 100)}` }]);
            await c.query('COMMIT');
          }
        }
      }));
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
    const after = await row(stack.weir.port);
    expect(after).toBeDefined();
    expect(Number(after!.hits) - Number(before?.hits ?? 0)).toBeGreaterThan(1000);
    expect(Number(after!.connections)).toBeLessThanOrEqual(POOL_SIZE);
    // 5 + 2 + 1 shapes, prepared at most once per server connection (none evicted at 100)
    expect(Number(after!.statements)).toBeLessThanOrEqual(8 * POOL_SIZE);
    expect(await stack.cluster.serverConnections(DB)).toBeLessThanOrEqual(POOL_SIZE + 2);
  });

  it('a named query whose Parse fails reports the error; the same name with a correct text then works', async () => {
    const c = new pg.Client(stack.conn());
    await c.connect();
    try {
      const err = await c.query({ name: 'typo', text: 'SELEC 1' }).then(() => null, (e: { code?: string }) => e);
      expect(err?.code).toBe('42601');
      const r = await c.query({ name: 'typo', text: 'SELECT 1 AS one' });
      expect(r.rows).toEqual([{ one: 1 }]);
      const again = await c.query({ name: 'typo', text: 'SELECT 1 AS one' });
      expect(again.rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('unnamed parameterised queries (cached by shape) return the right rows', async () => {
    const c = new pg.Client(stack.conn());
    await c.connect();
    try {
      for (let i = 1; i <= 60; i++) {
        const r = await c.query('SELECT label FROM items WHERE id = $1', [i]);
        expect(r.rows).toEqual([{ label: `item-${i}` }]);
      }
    } finally {
      await c.end();
    }
  });
});

describe('postgres.js', () => {
  it('prepare: true with pipelining (hundreds of queries in flight on max: 4): every row right', async () => {
    const sql = postgres(stack.url(), { prepare: true, max: 4, idle_timeout: 0, onnotice: () => {} });
    try {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(range(400).map((i) => {
          const k = i % 10;
          return sql.unsafe(`SELECT $1::int + ${k} AS v, ${k} AS k`, [i], { prepare: true });
        }));
        results.forEach((r, i) => expect([...r]).toEqual([{ v: i + (i % 10), k: i % 10 }]));
        const labels = await Promise.all(range(100).map((i) => sql`SELECT label FROM items WHERE id = ${i + 1}`));
        labels.forEach((r, i) => expect([...r]).toEqual([{ label: `item-${i + 1}` }]));
      }
      // big rows (many TCP reads each) pipelined with statements the proxy answers itself
      for (let round = 0; round < 5; round++) {
        const mixed = await Promise.all(range(60).map((i) => (i % 3 === 0
          ? sql.unsafe(`SELECT repeat('x', 300000 + $1::int) AS big`, [i], { prepare: true })
          : sql.unsafe(`SELECT $1::int * ${1 + (i % 4)} AS v`, [i], { prepare: true }))));
        mixed.forEach((r, i) => {
          if (i % 3 === 0) expect((r[0] as unknown as { big: string }).big.length).toBe(300000 + i);
          else expect([...r]).toEqual([{ v: i * (1 + (i % 4)) }]);
        });
      }
      // a failing statement in the middle of a pipeline fails alone
      const mixed = await Promise.allSettled(range(30).map((i) => (i === 15
        ? sql.unsafe('SELECT 1/$1::int AS x', [0], { prepare: true })
        : sql.unsafe('SELECT 1/$1::int AS x', [1], { prepare: true }))));
      mixed.forEach((r, i) => {
        if (i === 15) expect(r.status === 'rejected' && (r.reason as { code?: string }).code).toBe('22012');
        else expect(r.status === 'fulfilled' && [...r.value]).toEqual([{ x: 1 }]);
      });
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('big messages and cursors', () => {
  it('named queries with multi-megabyte parameters and results (messages over many reads)', async () => {
    const c = new pg.Client(stack.conn());
    await c.connect();
    try {
      for (const size of [100_000, 2_000_000, 5_000_000]) {
        const text = 'y'.repeat(size);
        const r = await c.query({ name: 'echo', text: 'SELECT length($1::text) AS n, $1::text AS t', values: [text] });
        expect(r.rows[0].n).toBe(size);
        expect(r.rows[0].t === text).toBe(true);
      }
    } finally {
      await c.end();
    }
  });

  it('postgres.js: cursors (Execute with a row limit, PortalSuspended) and transactions with prepare: true', async () => {
    const sql = postgres(stack.url(), { prepare: true, max: 2, idle_timeout: 0, onnotice: () => {} });
    try {
      const seen: number[] = [];
      await sql.begin(async (tx) => {
        for await (const rows of tx`SELECT id FROM items WHERE id <= ${50} ORDER BY id`.cursor(7)) seen.push(...rows.map((r) => r.id as number));
        const [n] = await tx`SELECT count(*)::int AS n FROM items WHERE id > ${90}`;
        expect(n.n).toBe(10);
      });
      expect(seen).toEqual(range(50).map((i) => i + 1));
      const results = await Promise.all(range(20).map((i) => sql.begin(async (tx) => {
        const [a] = await tx`SELECT label FROM items WHERE id = ${i + 1}`;
        const [b] = await tx`SELECT ${i}::int * 3 AS v`;
        return [a.label, b.v];
      })));
      expect(results).toEqual(range(20).map((i) => [`item-${i + 1}`, i * 3]));
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('extended protocol on a raw socket', () => {
  it('a Parse that fails reaches the client; the same name with a correct query then works', async () => {
    const s = await raw();
    try {
      const bad = await roundTrip(s, [parse('p1', 'SELEC 1'), bind('', 'p1'), execute(), sync()]);
      expect(types(bad)).toBe('EZ');
      expect(field(bad[0], 'C')).toBe('42601');
      const good = await roundTrip(s, [parse('p1', 'SELECT 41 + 1 AS v'), bind('', 'p1'), execute(), sync()]);
      expect(types(good)).toBe('12DCZ');
      expect(dataRows(good)).toEqual([['42']]);
      // a second Parse of a name in use is refused, as by PostgreSQL; the first stays
      const dup = await roundTrip(s, [parse('p1', 'SELECT 2'), sync()]);
      expect(types(dup)).toBe('EZ');
      expect(field(dup[0], 'C')).toBe('42P05');
      const still = await roundTrip(s, [bind('', 'p1'), execute(), sync()]);
      expect(dataRows(still)).toEqual([['42']]);
    } finally {
      s.socket.destroy();
    }
  });

  it('a batch answered without a server that parses one name twice gets 42P05 for the second (found by e2e/prepared/model.test.ts)', async () => {
    // The text is known valid (verified by an earlier client), so a Parse + Sync batch of a fresh
    // client is answered without a server; a second Parse of the same name in that run is
    // PostgreSQL's 42P05 all the same. (In the next run of a pipelined batch it is the plugin
    // README's known limit: not refused.)
    const text = 'SELECT 17 AS dup_local';
    const first = await raw();
    try {
      expect(types(await roundTrip(first, [parse('d1', text), sync()]))).toBe('1Z');
      expect(types(await roundTrip(first, [bind('', 'd1'), execute(), sync()]))).toBe('2DCZ');
    } finally {
      first.socket.destroy();
    }
    const s = await raw();
    try {
      const r = await roundTrip(s, [parse('d1', text), parse('d1', text), sync()]);
      expect(types(r)).toBe('1EZ');
      expect(field(r[1], 'C')).toBe('42P05');
      expect(dataRows(await roundTrip(s, [bind('', 'd1'), execute(), sync()]))).toEqual([['17']]);
    } finally {
      s.socket.destroy();
    }
  });

  it('Describe, Bind and Execute by the client\'s names; Close S; unknown names are errors', async () => {
    const s = await raw();
    try {
      const r = await roundTrip(s, [
        parse('by_id', 'SELECT label FROM items WHERE id = $1', [23]), describeMsg('S', 'by_id'),
        bind('', 'by_id', ['7']), execute(), bind('', 'by_id', ['8']), execute(), sync(),
      ]);
      expect(types(r)).toBe('1tT2DC2DCZ');
      expect(dataRows(r)).toEqual([['item-7'], ['item-8']]);
      const closed = await roundTrip(s, [close('S', 'by_id'), sync(), bind('', 'by_id', ['9']), execute(), sync()], 2);
      expect(types(closed)).toBe('3ZEZ');
      expect(field(closed[2], 'C')).toBe('26000');
      const unknown = await roundTrip(s, [describeMsg('S', 'never'), sync()]);
      expect(types(unknown)).toBe('EZ');
      expect(field(unknown[0], 'M')).toBe('prepared statement "never" does not exist');
    } finally {
      s.socket.destroy();
    }
  });

  it('DEALLOCATE name, DEALLOCATE ALL and DISCARD ALL as simple queries', async () => {
    const s = await raw();
    try {
      expect(types(await roundTrip(s, [parse('d1', 'SELECT 1'), parse('d2', 'SELECT 2'), parse('d3', 'SELECT 3'), sync()]))).toBe('111Z');
      const d = await roundTrip(s, [query('DEALLOCATE d1')]);
      expect(types(d)).toBe('CZ');
      expect(d[0].body.toString('utf8', 0, d[0].body.length - 1)).toBe('DEALLOCATE');
      const gone = await roundTrip(s, [bind('', 'd1'), execute(), sync()]);
      expect(types(gone)).toBe('EZ');
      expect(field(gone[0], 'C')).toBe('26000');
      expect(dataRows(await roundTrip(s, [bind('', 'd2'), execute(), sync()]))).toEqual([['2']]);
      // an unknown name: PostgreSQL's own error
      const unknown = await roundTrip(s, [query('DEALLOCATE nope')]);
      expect(field(unknown[0], 'C')).toBe('26000');
      const all = await roundTrip(s, [query('DEALLOCATE ALL')]);
      expect(all[0].body.toString('utf8', 0, all[0].body.length - 1)).toBe('DEALLOCATE ALL');
      expect(field((await roundTrip(s, [bind('', 'd3'), execute(), sync()]))[0], 'C')).toBe('26000');
      // the names can be used again
      expect(types(await roundTrip(s, [parse('d1', 'SELECT 11'), parse('d3', 'SELECT 33'), sync()]))).toBe('11Z');
      const discard = await roundTrip(s, [query('DISCARD ALL')]);
      expect(types(discard)).toBe('CZ');
      expect(field((await roundTrip(s, [bind('', 'd1'), execute(), sync()]))[0], 'C')).toBe('26000');
      const fresh = await roundTrip(s, [parse('d1', 'SELECT 111'), bind('', 'd1'), execute(), sync()]);
      expect(dataRows(fresh)).toEqual([['111']]);
    } finally {
      s.socket.destroy();
    }
  });

  it('in a failed transaction: DEALLOCATE and DISCARD ALL fail as in PostgreSQL and the names stay', async () => {
    const s = await raw();
    try {
      await roundTrip(s, [parse('t1', 'SELECT 5'), sync()]);
      expect(types(await roundTrip(s, [query('BEGIN')]))).toBe('CZ');
      const boom = await roundTrip(s, [query('SELECT 1/0')]);
      expect(field(boom[0], 'C')).toBe('22012');
      const dealloc = await roundTrip(s, [query('DEALLOCATE t1')]);
      expect(field(dealloc[0], 'C')).toBe('25P02');
      // a Parse in a failed transaction is refused too, even of a statement the server has
      const p = await roundTrip(s, [parse('t2', 'SELECT 5'), sync()]);
      expect(field(p[0], 'C')).toBe('25P02');
      expect(types(await roundTrip(s, [query('ROLLBACK')]))).toBe('CZ');
      expect(dataRows(await roundTrip(s, [bind('', 't1'), execute(), sync()]))).toEqual([['5']]);
      expect(types(await roundTrip(s, [query('BEGIN')]))).toBe('CZ');
      const discard = await roundTrip(s, [query('DISCARD ALL')]);
      expect(field(discard[0], 'C')).toBe('25001');
      expect(types(await roundTrip(s, [query('ROLLBACK')]))).toBe('CZ');
      expect(dataRows(await roundTrip(s, [bind('', 't1'), execute(), sync()]))).toEqual([['5']]);
    } finally {
      s.socket.destroy();
    }
  });

  it('an error at Sync (a deferred constraint failing at commit) does not upset the next run', async () => {
    const one = await stack.startWeir({ poolSize: 1, maxPerConnection: 100 }); // every run on the same server connection
    await stack.cluster.query('CREATE TABLE deferred_u (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)', [], { database: DB });
    await stack.cluster.query(`GRANT ALL ON deferred_u TO ${RAW.name}`, [], { database: DB });
    const s = await rawLogin(one.port, RAW, DB);
    try {
      expect(types(await roundTrip(s, [parse('five', 'SELECT 5'), sync()]))).toBe('1Z');
      const r = await roundTrip(s, [
        parse('ins', 'INSERT INTO deferred_u VALUES (1), (1)'), bind('', 'ins'), execute(), sync(),
        parse('again', 'SELECT 5'), bind('', 'again'), execute(), sync(), // ParseComplete from weir: the server has it
      ], 2);
      expect(types(r)).toBe('12CEZ12DCZ');
      expect(field(r[3], 'C')).toBe('23505');
      expect(dataRows(r)).toEqual([['5']]);
    } finally {
      s.socket.destroy();
      await one.stop();
    }
  });

  it('pipelined runs, one of them failing in the middle, on the same socket', async () => {
    const s = await raw();
    try {
      const r = await roundTrip(s, [
        parse('a', 'SELECT $1::int AS v'), bind('', 'a', ['1']), execute(), sync(),
        bind('', 'a', ['x']), execute(), parse('b', 'SELECT 2'), bind('', 'b'), execute(), sync(), // Bind fails: all skipped
        parse('b', 'SELECT 3'), bind('', 'b'), execute(), bind('', 'a', ['4']), execute(), sync(),
      ], 3);
      expect(types(r)).toBe('12DCZEZ12DC2DCZ');
      expect(field(r[5], 'C')).toBe('22P02');
      expect(dataRows(r)).toEqual([['1'], ['3'], ['4']]);
    } finally {
      s.socket.destroy();
    }
  });
});

describe('psql and the admin console', () => {
  it('psql: DEALLOCATE ALL and DISCARD ALL through transaction pooling', async () => {
    const r = await psql(stack.weir.port, ['DEALLOCATE ALL', 'DISCARD ALL', 'SELECT 7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['DEALLOCATE ALL', 'DISCARD ALL', '7']);
  });

  it('SHOW PREPARED_STATEMENTS: per pool connections, statements, hits, misses, evictions', async () => {
    const r = await psql(stack.weir.port, ['SHOW PREPARED_STATEMENTS'], { database: 'weir', user: 'admin', password: 'admin' });
    expect(r.code, r.stderr).toBe(0);
    const rows = await stack.show('PREPARED_STATEMENTS');
    expect(Object.keys(rows[0])).toEqual(['pool', 'connections', 'statements', 'hits', 'misses', 'evictions', 'stale']);
    const mine = rows.find((x) => x.pool === `app@${DB}`)!;
    expect(Number(mine.hits)).toBeGreaterThan(0);
    expect(Number(mine.misses)).toBeGreaterThan(0);
    expect(r.stdout).toContain(`app@${DB}|`);
  });
});

describe('max_per_connection: 3 with 10 distinct statements', () => {
  it('rows stay right, statements are evicted, no server connection holds more than 3', async () => {
    const before = await row(small.port);
    const clients = await Promise.all(range(12).map(async () => {
      const c = new pg.Client(stack.conn(DB, small.port));
      await c.connect();
      return c;
    }));
    try {
      await Promise.all(clients.map(async (c, ci) => {
        for (let i = 0; i < 30; i++) {
          const k = (ci * 7 + i * 3) % 10;
          const id = 1 + ((ci + i) % 100);
          const r = await c.query({ name: `s${k}`, text: `SELECT label, ${k} AS k FROM items WHERE id = $1`, values: [id] });
          expect(r.rows).toEqual([{ label: `item-${id}`, k }]);
        }
      }));
      // each server connection: what it holds (in a transaction, so both queries see the same one)
      for (let i = 0; i < 6; i++) {
        const c = clients[i];
        await c.query('BEGIN');
        const n = (await c.query('SELECT count(*)::int AS n, bool_and(name LIKE $1) AS ours FROM pg_prepared_statements', ['weir\\_%'])).rows[0];
        await c.query('COMMIT');
        expect(n.n).toBeLessThanOrEqual(3);
        if (n.n > 0) expect(n.ours).toBe(true);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
    const after = await row(small.port);
    expect(Number(after!.evictions) - Number(before?.evictions ?? 0)).toBeGreaterThan(0);
    expect(Number(after!.statements)).toBeLessThanOrEqual(3 * 2);
  });
});

describe('session pooling', () => {
  it('stays plain pass-through: client names reach the server as they are, SQL PREPARE works', async () => {
    const c = new pg.Client(stack.conn(SESSION_DB));
    await c.connect();
    try {
      const r = await c.query({ name: 'sess_q', text: 'SELECT $1::int + 1 AS v', values: [1] });
      expect(r.rows).toEqual([{ v: 2 }]);
      await c.query('PREPARE sql_prep AS SELECT 99 AS v');
      expect((await c.query('EXECUTE sql_prep')).rows).toEqual([{ v: 99 }]);
      const names = (await c.query('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((x) => x.name);
      expect(names).toEqual(['sess_q', 'sql_prep']);
      await c.query('DEALLOCATE sess_q');
      expect((await c.query('SELECT name FROM pg_prepared_statements')).rows.map((x) => x.name)).toEqual(['sql_prep']);
    } finally {
      await c.end();
    }
    const rows = await stack.show('PREPARED_STATEMENTS');
    expect(rows.find((x) => x.pool === `app@${SESSION_DB}`)).toBeUndefined();
  });
});
