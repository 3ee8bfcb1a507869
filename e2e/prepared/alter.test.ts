/**
 * An online migration behind weir (issue 13, item 6): after `ALTER TABLE … ADD COLUMN`, a client
 * preparing `SELECT * …` gets the new columns, as it would from PostgreSQL, and never
 * "0A000 cached plan must not change result type" for a statement it prepared after the change:
 * its statement runs only on a server copy prepared after its own Parse. Unnamed statements are
 * not shared by default; shared ones (cache_anonymous: true) heal after the first error.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, DB, type Stack, type WeirInstance } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('e2e-prepared-alter', { poolSize: 1 });
});

afterAll(async () => {
  await stack?.stop();
});

async function table(name: string): Promise<void> {
  await stack.cluster.query(`CREATE TABLE ${name} (a int PRIMARY KEY, b text)`, [], { database: DB });
  await stack.cluster.query(`INSERT INTO ${name} VALUES (1, 'one')`, [], { database: DB });
  await stack.cluster.query(`GRANT ALL ON ${name} TO app`, [], { database: DB });
}

const addColumn = (t: string, col: string) =>
  stack.cluster.query(`ALTER TABLE ${t} ADD COLUMN ${col} int DEFAULT 7`, [], { database: DB });

async function client(weir: WeirInstance): Promise<pg.Client> {
  const c = new pg.Client(stack.conn(DB, weir.port));
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** Table `t`, a weir on one server connection, three clients; the first runs the unnamed query, then a column is added. */
async function unnamedAfterAlter(t: string, cacheAnonymous: boolean) {
  await table(t);
  const weir = await stack.startWeir({ poolSize: 1, cacheAnonymous });
  const cs = await Promise.all([client(weir), client(weir), client(weir)]);
  const q = { text: `SELECT * FROM ${t} WHERE a = $1`, values: [1] };
  expect((await cs[0]!.query(q)).rows).toEqual([{ a: 1, b: 'one' }]);
  await addColumn(t, 'c');
  return { weir, cs, q };
}

describe('ALTER TABLE under prepared statements', () => {
  it('named: a client preparing after the change gets the new columns, on the same server connection', async () => {
    await table('alter_named');
    const weir = await stack.startWeir({ poolSize: 1 });
    const a = await client(weir);
    const b = await client(weir);
    try {
      const q = { name: 'row', text: 'SELECT * FROM alter_named WHERE a = $1', values: [1] };
      expect((await a.query(q)).rows).toEqual([{ a: 1, b: 'one' }]);
      await addColumn('alter_named', 'c');
      // b has never prepared "row": PostgreSQL would plan it now. One server connection: the
      // copy a left there is from before the change.
      expect((await b.query(q)).rows).toEqual([{ a: 1, b: 'one', c: 7 }]);
      expect((await b.query(q)).rows).toEqual([{ a: 1, b: 'one', c: 7 }]);
      // a prepared before the change: PostgreSQL would refuse it (0A000); weir may run it on the
      // fresher copy. Either way the connection goes on.
      const again = await a.query(q).then((r) => r.rows, (e) => e.code);
      expect([[{ a: 1, b: 'one', c: 7 }], '0A000']).toContainEqual(again);
      expect((await a.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('unnamed, by default not shared: no client gets an error', async () => {
    const { cs, q } = await unnamedAfterAlter('alter_unnamed', false);
    try {
      for (const c of cs) expect((await c.query(q)).rows).toEqual([{ a: 1, b: 'one', c: 7 }]);
    } finally {
      await Promise.all(cs.map((c) => c.end()));
    }
  });

  it('unnamed and shared (cache_anonymous: true): at most the first use after the change fails, then it heals', async () => {
    const { weir, cs, q } = await unnamedAfterAlter('alter_shared', true);
    try {
      const first = await cs[1]!.query(q).then((r) => r.rows, (e) => e.code);
      expect([[{ a: 1, b: 'one', c: 7 }], '0A000']).toContainEqual(first);
      expect((await cs[2]!.query(q)).rows).toEqual([{ a: 1, b: 'one', c: 7 }]);
      expect((await cs[1]!.query(q)).rows).toEqual([{ a: 1, b: 'one', c: 7 }]);
      expect((await cs[0]!.query(q)).rows).toEqual([{ a: 1, b: 'one', c: 7 }]);
      const row = (await stack.show('PREPARED_STATEMENTS', weir.port)).find((r) => r.pool === `app@${DB}`);
      expect(Number(row!.stale)).toBe(first === '0A000' ? 1 : 0);
    } finally {
      await Promise.all(cs.map((c) => c.end()));
    }
  });
});
