/**
 * Client and query timeouts (issue 13, item 3): each ends the right thing with PostgreSQL's own
 * error codes and nothing else. Waits are bounded polls, never timed assertions.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startStack, type Stack, type WeirInstance } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-timeouts' });
  await stack.cluster.query('CREATE TABLE timeout_rows (v text)', [], { database: 'appdb' });
  await stack.cluster.query('GRANT ALL ON timeout_rows TO app', [], { database: 'appdb' });
});

afterAll(async () => {
  await stack?.stop();
});

/** A connected client that records its error events instead of throwing them. */
async function client(weir: WeirInstance): Promise<{ c: pg.Client; errors: (Error & { code?: string })[]; ended: () => boolean }> {
  const c = new pg.Client({ ...stack.conn(), port: weir.port });
  const errors: (Error & { code?: string })[] = [];
  let ended = false;
  c.on('error', (e) => errors.push(e));
  c.on('end', () => { ended = true; });
  await c.connect();
  return { c, errors, ended: () => ended };
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(100);
}

const backends = (state: string) => stack.cluster.query<{ n: number }>(
  `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'app' AND state = $1`, [state]).then((r) => r[0]!.n);

describe('query_timeout', () => {
  let weir: WeirInstance;
  beforeAll(async () => {
    weir = await stack.startAnotherWeir({ general: { query_timeout: '1s' } });
  });

  it('a query running longer is cancelled on the server: 57014, and the connection stays usable', async () => {
    const { c, errors } = await client(weir);
    try {
      const err = await c.query('SELECT pg_sleep(30)').then(() => null, (e) => e);
      expect(err?.code).toBe('57014');
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(errors).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('inside a transaction the transaction is aborted, as with statement_timeout', async () => {
    const { c } = await client(weir);
    try {
      await c.query('BEGIN');
      await expect(c.query('SELECT pg_sleep(30)')).rejects.toMatchObject({ code: '57014' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    } finally {
      await c.end();
    }
  });
});

describe('idle_transaction_timeout', () => {
  it('a client idle inside a transaction is disconnected (25P03); its work is rolled back, the server not reused', async () => {
    const weir = await stack.startAnotherWeir({ general: { idle_transaction_timeout: '1s' } });
    const { c, errors, ended } = await client(weir);
    await c.query('BEGIN');
    await c.query(`INSERT INTO timeout_rows VALUES ('idle-in-tx')`);
    await until(ended);
    expect(ended()).toBe(true);
    expect(errors.map((e) => e.code)).toContain('25P03');
    await sleep(500);
    expect(await backends('idle in transaction')).toBe(0);
    const rows = await stack.cluster.query(`SELECT * FROM timeout_rows WHERE v = 'idle-in-tx'`, [], { database: 'appdb' });
    expect(rows).toEqual([]);
    // Clients outside a transaction are left alone.
    const other = await client(weir);
    await sleep(2_500);
    expect((await other.c.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    await other.c.end();
  });
});

describe('client_idle_timeout', () => {
  for (const poolMode of ['transaction', 'session'] as const) {
    it(`${poolMode} mode: an idle client is disconnected (57P05) and weir goes on`, async () => {
      const weir = await stack.startAnotherWeir({ poolMode, general: { client_idle_timeout: '1s' } });
      const { c, errors, ended } = await client(weir);
      await c.query('SELECT 1');
      await until(ended);
      expect(ended()).toBe(true);
      expect(errors.map((e) => e.code)).toContain('57P05');
      // A busy client is not idle: a query longer than the timeout completes.
      const busy = await client(weir);
      expect((await busy.c.query('SELECT pg_sleep(2.5), 4 AS four')).rows[0].four).toBe(4);
      await busy.c.end().catch(() => {});
    });
  }
});

describe('transaction_timeout', () => {
  it('a transaction open longer is ended (25P04), rolled back', async () => {
    const weir = await stack.startAnotherWeir({ general: { transaction_timeout: '3s' } });
    const { c, errors, ended } = await client(weir);
    await c.query('BEGIN');
    await c.query(`INSERT INTO timeout_rows VALUES ('long-tx')`);
    for (let i = 0; i < 16 && !ended(); i++) await c.query('SELECT pg_sleep(0.5)').catch((e) => errors.push(e));
    await until(ended);
    expect(ended()).toBe(true);
    // The FATAL reaches the query in flight (or the error event, between queries).
    expect(errors.map((e) => e.code)).toContain('25P04');
    const rows = await stack.cluster.query(`SELECT * FROM timeout_rows WHERE v = 'long-tx'`, [], { database: 'appdb' });
    expect(rows).toEqual([]);
    // Short transactions are not affected.
    const other = await client(weir);
    for (let i = 0; i < 5; i++) {
      await other.c.query('BEGIN');
      await other.c.query('SELECT pg_sleep(0.5)');
      await other.c.query('COMMIT');
    }
    expect(other.errors).toEqual([]);
    await other.c.end();
  });
});

describe('server_connect_timeout', () => {
  it('is accepted under PgBouncer\'s name; connect_timeout stays its alias', async () => {
    const weir = await stack.startAnotherWeir({ general: { server_connect_timeout: '2s' } });
    const { c } = await client(weir);
    expect((await c.query('SELECT 5 AS five')).rows).toEqual([{ five: 5 }]);
    await c.end();
  });
});
