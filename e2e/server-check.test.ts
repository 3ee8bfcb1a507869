/**
 * server_check_delay / server_check_query (issue 13): a server connection that sat idle in its pool
 * longer than server_check_delay answers server_check_query before a client gets it; one that
 * fails the check is closed and the client is served by another. The checks are counted by the
 * database itself (a sequence the check query advances), so nothing here depends on timing beyond
 * "idle for longer than the delay" (the clock is coarse: about a second).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startStack, type Stack } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-server-check', poolSize: 1 });
  await stack.cluster.query('CREATE SEQUENCE weir_checks', [], { database: 'appdb' });
  await stack.cluster.query('GRANT USAGE, SELECT, UPDATE ON SEQUENCE weir_checks TO PUBLIC', [], { database: 'appdb' });
});

afterAll(async () => {
  await stack?.stop();
});

const checks = () => stack.cluster.query<{ n: string }>(
  `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM weir_checks`, [], { database: 'appdb' })
  .then((r) => Number(r[0]!.n));

const pid = async (c: pg.Client) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

describe('server_check_query', () => {
  it('runs on a connection idle longer than server_check_delay, not on one reused at once', async () => {
    const weir = await stack.startAnotherWeir({ general: { server_check_delay: '2s', server_check_query: JSON.stringify(`select nextval('weir_checks')`) } });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    try {
      const first = await pid(c);             // a new connection: never checked
      expect(await checks()).toBe(0);
      for (let i = 0; i < 5; i++) await pid(c); // reused within the delay: not checked
      expect(await checks()).toBe(0);
      await sleep(3_500);
      const rows = (await c.query('SELECT 41 + 1 AS answer')).rows;
      expect(rows).toEqual([{ answer: 42 }]);    // the client sees its own result, not the check's
      expect(await checks()).toBe(1);
      expect(await pid(c)).toBe(first);          // the same, healthy connection goes on serving
      expect(await checks()).toBe(1);
    } finally {
      await c.end();
    }
  });

  it('a connection failing the check is closed, and the client is served by a fresh one', async () => {
    const weir = await stack.startAnotherWeir({ general: { server_check_delay: '2s', server_check_query: JSON.stringify('select 1/0') } });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    try {
      const first = await pid(c);
      expect(await pid(c)).toBe(first);
      await sleep(3_500);
      const second = await pid(c);
      expect(second).not.toBe(first);
      const alive = await stack.cluster.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [first]);
      expect(alive[0]!.n).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('server_check_delay 0 checks on every reuse', async () => {
    const before = await checks();
    const weir = await stack.startAnotherWeir({ general: { server_check_delay: 0, server_check_query: JSON.stringify(`select nextval('weir_checks')`) } });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    try {
      await pid(c);                              // opens the connection: not checked
      for (let i = 0; i < 5; i++) await pid(c);  // each reuse is checked first
      expect(await checks()).toBe(before + 5);
    } finally {
      await c.end();
    }
  });

  it('with a message-hook plugin on (prepared statements): the check stays hidden from the framed path', async () => {
    const weir = await stack.startAnotherWeir({
      general: { server_check_delay: '2s', server_check_query: JSON.stringify(`select nextval('weir_checks')`) },
      plugins: 'plugins:\n  prepared_statements:\n    enabled: true\n',
    });
    const c = new pg.Client({ ...stack.conn(), port: weir.port });
    await c.connect();
    try {
      const q = { name: 'plus', text: 'SELECT $1::int + 1 AS v', values: [1] };
      expect((await c.query(q)).rows).toEqual([{ v: 2 }]);
      const before = await checks();
      await sleep(3_500);
      expect((await c.query(q)).rows).toEqual([{ v: 2 }]);
      expect(await checks()).toBe(before + 1);
      expect((await c.query(q)).rows).toEqual([{ v: 2 }]);
      expect(await checks()).toBe(before + 1);
    } finally {
      await c.end();
    }
  });
});
