/**
 * pgbench with 40 clients through weir on pool_size 4 (transaction pooling), simple and
 * extended protocol: no failed transactions, and PostgreSQL never sees more than 4 server
 * connections for the database while it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminShow, pgbench, serverConnectionCounter, sleep, startStack, USERS, type Stack } from './helpers.js';

const POOL_SIZE = 4;
const CLIENTS = 40;
const TX_PER_CLIENT = 50;

let stack: Stack;
let counter: Awaited<ReturnType<typeof serverConnectionCounter>>;

beforeAll(async () => {
  stack = await startStack({
    name: 'e2e-pgbench',
    poolMode: 'transaction',
    poolSize: POOL_SIZE,
    general: { query_wait_timeout: '60s' },
  });
  counter = await serverConnectionCounter(stack.cluster);
  // Initialise directly on the cluster, not through weir.
  const init = await pgbench(stack.cluster.port, {
    user: USERS.md5.name,
    password: USERS.md5.password,
    args: ['-i', '-s', '1', '-q'],
  });
  if (init.code !== 0) throw new Error(`pgbench -i failed:\n${init.stdout}\n${init.stderr}`);
});

afterAll(async () => {
  await counter?.close();
  await stack?.stop();
});

/** Run pgbench through weir while polling pg_stat_activity; return pgbench's result and the max seen. */
async function benchWhilePolling(mode: 'simple' | 'extended') {
  let running = true;
  let maxSeen = 0;
  let polls = 0;
  const samples: number[] = [];
  const poller = (async () => {
    // Bounded: at most 20,000 polls (the run ends long before).
    while (running && polls < 20_000) {
      const n = await counter.count('appdb');
      polls++;
      if (n > maxSeen) maxSeen = n;
      if (samples.length < 50 || n > POOL_SIZE) samples.push(n);
      await sleep(5);
    }
  })();
  const result = await pgbench(stack.weir.port, {
    user: USERS.md5.name,
    password: USERS.md5.password,
    args: ['-n', '-S', '-M', mode, '-c', String(CLIENTS), '-j', '2', '-t', String(TX_PER_CLIENT)],
    timeoutMs: 170_000,
  });
  running = false;
  await poller;
  // One last look after the run.
  maxSeen = Math.max(maxSeen, await counter.count('appdb'));
  return { result, maxSeen, polls, samples };
}

describe.each(['simple', 'extended'] as const)('pgbench -M %s, 40 clients, pool_size 4', (mode) => {
  let outcome: Awaited<ReturnType<typeof benchWhilePolling>>;

  beforeAll(async () => {
    outcome = await benchWhilePolling(mode);
  });

  it('exits 0 and processes every transaction', () => {
    const { result } = outcome;
    const out = `${result.stdout}\n${result.stderr}`;
    expect(result.code, out).toBe(0);
    const total = CLIENTS * TX_PER_CLIENT;
    expect(result.stdout, out).toMatch(new RegExp(`number of transactions actually processed: ${total}/${total}`));
  });

  it('has no failed transactions', () => {
    const { result } = outcome;
    const out = `${result.stdout}\n${result.stderr}`;
    const failed = /number of failed transactions: (\d+)/.exec(result.stdout);
    if (failed) expect(Number(failed[1]), out).toBe(0);
    expect(result.stderr, out).not.toMatch(/error|FATAL|aborted/i);
  });

  it(`never more than ${POOL_SIZE} server connections in pg_stat_activity`, () => {
    const { maxSeen, polls, samples } = outcome;
    expect(polls).toBeGreaterThan(0);
    expect(maxSeen, `samples: ${samples.join(',')}`).toBeLessThanOrEqual(POOL_SIZE);
    expect(maxSeen).toBeGreaterThanOrEqual(1);
  });

  it('SHOW POOLS afterwards: nobody waiting, server count within pool_size', async () => {
    const { rows } = await adminShow(stack.weir.port, 'POOLS');
    const row = rows.find((r) => r.database === 'appdb' && r.user === USERS.md5.name);
    expect(row, JSON.stringify(rows)).toBeDefined();
    expect(Number(row.cl_waiting)).toBe(0);
    expect(Number(row.sv_active) + Number(row.sv_idle)).toBeLessThanOrEqual(POOL_SIZE);
  });
});

describe('more pgbench shapes through weir', () => {
  async function runWithPoll(args: string[]) {
    let running = true;
    let maxSeen = 0;
    const poller = (async () => {
      for (let i = 0; i < 20_000 && running; i++) {
        maxSeen = Math.max(maxSeen, await counter.count('appdb'));
        await sleep(5);
      }
    })();
    const result = await pgbench(stack.weir.port, {
      user: USERS.md5.name,
      password: USERS.md5.password,
      args,
      timeoutMs: 170_000,
    });
    running = false;
    await poller;
    return { result, maxSeen };
  }

  it('TPC-B-like read-write transactions (BEGIN … END), 20 clients: no failures, ≤ 4 server connections', async () => {
    const { result, maxSeen } = await runWithPoll(['-n', '-M', 'extended', '-c', '20', '-j', '2', '-t', '25']);
    const out = `${result.stdout}\n${result.stderr}`;
    expect(result.code, out).toBe(0);
    expect(result.stdout, out).toMatch(/number of transactions actually processed: 500\/500/);
    expect(maxSeen).toBeLessThanOrEqual(POOL_SIZE);
    const rows = await stack.cluster.query(`select count(*)::int as n from pgbench_history`, [], { database: 'appdb' });
    expect(rows[0].n).toBeGreaterThanOrEqual(500);
  });

  it('-C (a new connection per transaction), 20 clients: no failures, ≤ 4 server connections', async () => {
    const { result, maxSeen } = await runWithPoll(['-n', '-S', '-C', '-c', '20', '-j', '2', '-t', '20']);
    const out = `${result.stdout}\n${result.stderr}`;
    expect(result.code, out).toBe(0);
    expect(result.stdout, out).toMatch(/number of transactions actually processed: 400\/400/);
    expect(maxSeen).toBeLessThanOrEqual(POOL_SIZE);
  });
});
