/**
 * `pgbench -M prepared -S` through transaction pooling on a small pool (pool_size 6) with 20,
 * 120 and 500 clients: every transaction succeeds (PgBouncer before 1.21 aborts these with
 * "prepared statement does not exist"), PostgreSQL never sees more than 6 connections, and the
 * plugin's report shows the statements shared: far fewer misses than clients. Also the
 * default read-write script in transactions, and server connections killed under it.
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
      // Each client Parses once and Binds many times. A statement is prepared on a server connection
      // when it lacks it, or holds a copy older than the client's Parse: at most once per client and
      // connection (the copy is then newer than that Parse), never once per transaction.
      expect(hits).toBeGreaterThanOrEqual(clients * perClient);
      expect(misses).toBeLessThanOrEqual(POOL_SIZE * (clients + 2));
      expect(misses).toBeLessThan(clients * perClient);
      expect(Number(row!.connections)).toBeLessThanOrEqual(POOL_SIZE);
      expect(Number(row!.evictions)).toBe(0);
      expect(await stack.cluster.serverConnections('appdb')).toBeLessThanOrEqual(POOL_SIZE);
    });
  }

  it('TPC-B -M prepared with 40 clients on 2 pgbench threads: statements known to be valid are prepared without a server, nothing stalls', async () => {
    // pgbench prepares with a blocking Parse + Sync; with 20 clients per thread and 6 servers, a
    // prepare that waited for a server would stall clients that hold servers in open transactions.
    // Prime the statements once (so they are known to be valid), then run the many-clients case.
    const prime = await pgbench(stack.weir.port, ['-n', '-M', 'prepared', '-c', '1', '-j', '1', '-t', '1']);
    expect(prime.code, prime.stderr).toBe(0);
    const r = await pgbench(stack.weir.port, ['-n', '-M', 'prepared', '-c', '40', '-j', '2', '-t', '25']);
    const detail = `exit ${r.code}\n${r.stdout}\n${r.stderr.slice(0, 4000)}`;
    expect(r.code, detail).toBe(0);
    expect(processed(r.stdout), detail).toEqual([1000, 1000]);
    expect(r.stderr, detail).not.toMatch(/error|does not exist|already exists|no connection available/i);
  });

  it('the default (TPC-B-like, read-write, in transactions) script -M prepared, 30 clients: no errors', async () => {
    // One thread per client: pgbench prepares each statement with a blocking PQprepare, so a
    // client waiting for a server connection would stall its thread's other clients — which
    // hold the pool's connections in their open transactions (so with any transaction pooler).
    const r = await pgbench(stack.weir.port, ['-n', '-M', 'prepared', '-c', '30', '-j', '30', '-t', '40']);
    const detail = `exit ${r.code}\n${r.stdout}\n${r.stderr.slice(0, 4000)}`;
    expect(r.code, detail).toBe(0);
    expect(processed(r.stdout), detail).toEqual([1200, 1200]);
    expect(r.stderr, detail).not.toMatch(/error|does not exist|already exists/i);
  });

  it('server connections killed under it: their caches go, the statements are prepared again', async () => {
    const r1 = await pgbench(stack.weir.port, ['-n', '-S', '-M', 'prepared', '-c', '8', '-j', '2', '-t', '20']);
    expect(r1.code, r1.stderr).toBe(0);
    const before = (await stack.show('PREPARED_STATEMENTS')).find((x) => x.pool.startsWith('app@appdb'))!;
    const oldServers = new Set((await stack.show('SERVERS')).filter((x) => x.database === 'appdb').map((x) => x.id));
    const killed = await stack.cluster.query<{ n: string }>(
      `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'app' AND pid <> pg_backend_pid()`);
    expect(Number(killed[0].n)).toBeGreaterThan(0);
    const r2 = await pgbench(stack.weir.port, ['-n', '-S', '-M', 'prepared', '-c', '8', '-j', '2', '-t', '20']);
    const detail = `exit ${r2.code}\n${r2.stdout}\n${r2.stderr.slice(0, 4000)}`;
    expect(r2.code, detail).toBe(0);
    expect(processed(r2.stdout), detail).toEqual([160, 160]);
    const after = (await stack.show('PREPARED_STATEMENTS')).find((x) => x.pool.startsWith('app@appdb'))!;
    const servers = (await stack.show('SERVERS')).filter((x) => x.database === 'appdb');
    // new server connections, the statement prepared again on each; no cache left for a dead one
    expect(servers.some((x) => oldServers.has(x.id))).toBe(false);
    expect(Number(after.misses) - Number(before.misses)).toBeGreaterThan(0);
    expect(Number(after.connections)).toBeLessThanOrEqual(servers.length);
  });

  it('a server connection holds the client\'s statement under weir\'s own name', async () => {
    const pg = (await import('pg')).default;
    const client = new pg.Client(stack.conn());
    await client.connect();
    try {
      await client.query('BEGIN'); // one server connection for the next queries
      expect((await client.query({ name: 'mine', text: 'SELECT 40 + $1::int AS v', values: [2] })).rows).toEqual([{ v: 42 }]);
      const rows = (await client.query('SELECT name, statement FROM pg_prepared_statements')).rows as { name: string; statement: string }[];
      await client.query('COMMIT');
      for (const row of rows) expect(row.name).toMatch(/^weir_/);
      expect(rows.some((x) => x.statement === 'SELECT 40 + $1::int AS v')).toBe(true);
    } finally {
      await client.end();
    }
  });
});
