/**
 * `pgbench -M prepared -S` through transaction pooling on a small pool (pool_size 6) with 20,
 * 120 and 500 clients: every transaction succeeds (PgBouncer before 1.21 aborts these with
 * "prepared statement does not exist"), PostgreSQL never sees more than 6 connections, and the
 * plugin's report shows the statements shared: far fewer misses than clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbench, startStack, type Stack } from './stack.js';

const POOL_SIZE = 6;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack('e2e-prepared-pgbench', { poolSize: POOL_SIZE, maxPerConnection: 100 });
  // Initialise directly on the cluster, not through weir.
  const init = await pgbench(stack.cluster.port, ['-i', '-s', '1', '-q']);
  if (init.code !== 0) throw new Error(`pgbench -i failed:\n${init.stdout}\n${init.stderr}`);
});

afterAll(async () => {
  await stack?.stop();
});

function processed(out: string): [number, number] | null {
  const m = /number of transactions actually processed: (\d+)\/(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

describe('pgbench -M prepared through transaction pooling', () => {
  for (const clients of [20, 120, 500]) {
    it(`${clients} clients on pool_size ${POOL_SIZE}: no errors`, async () => {
      const perClient = clients >= 500 ? 20 : 50;
      const before = await stack.show('PREPARED_STATEMENTS');
      const r = await pgbench(stack.weir.port, ['-n', '-S', '-M', 'prepared', '-c', String(clients), '-j', '4', '-t', String(perClient)]);
      const detail = `exit ${r.code}\n${r.stdout}\n${r.stderr.slice(0, 4000)}`;
      expect(r.code, detail).toBe(0);
      expect(processed(r.stdout), detail).toEqual([clients * perClient, clients * perClient]);
      expect(r.stdout, detail).toMatch(/number of failed transactions: 0 /);
      expect(r.stderr, detail).not.toMatch(/error|does not exist|already exists/i);
      const after = await stack.show('PREPARED_STATEMENTS');
      const row = after.find((x) => x.pool.startsWith('app@appdb'));
      expect(row, JSON.stringify(after)).toBeDefined();
      const prev = before.find((x) => x.pool.startsWith('app@appdb'));
      const hits = Number(row!.hits) - Number(prev?.hits ?? 0);
      const misses = Number(row!.misses) - Number(prev?.misses ?? 0);
      // Each client Parses once and Binds many times; misses happen once per server connection and statement.
      expect(hits).toBeGreaterThanOrEqual(clients * perClient);
      expect(misses).toBeLessThanOrEqual(POOL_SIZE * 2);
      expect(Number(row!.connections)).toBeLessThanOrEqual(POOL_SIZE);
      expect(Number(row!.evictions)).toBe(0);
      expect(await stack.cluster.serverConnections('appdb')).toBeLessThanOrEqual(POOL_SIZE);
    });
  }

  it('a server connection holds the shared statement under weir\'s own name', async () => {
    const r = await pgbench(stack.weir.port, ['-n', '-S', '-M', 'prepared', '-c', '2', '-j', '1', '-t', '5']);
    expect(r.code, r.stderr).toBe(0);
    const pg = (await import('pg')).default;
    const client = new pg.Client(stack.conn());
    await client.connect();
    try {
      const rows = (await client.query('SELECT name, statement FROM pg_prepared_statements')).rows as { name: string; statement: string }[];
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.name).toMatch(/^weir_/);
      expect(rows.some((x) => /SELECT abalance FROM pgbench_accounts/i.test(x.statement))).toBe(true);
    } finally {
      await client.end();
    }
  });
});
