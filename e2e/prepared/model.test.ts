/**
 * The prepared-statements model test through the real proxy and real PostgreSQL (both data
 * paths: the `e2e` project runs it on the native plane, `e2e-node` on node:net). fast-check
 * generates, for 3–6 concurrent clients, programs of named and unnamed Parse, Bind, Describe
 * (S and P), Execute, Close (S and P), Flush, Sync and simple queries (DEALLOCATE name|ALL,
 * DISCARD ALL, BEGIN/COMMIT/ROLLBACK, failing statements) — the unit model's generators
 * (plugins/prepared-statements/src/programs.test-util.ts) rendered as real SQL (model-sql.ts) —
 * sent over raw sockets pipelined or run by run, in random pieces. weir runs transaction
 * pooling with 2 server connections and a small max_per_connection (evictions, re-prepares).
 * Each client must get, message for message, what the same program gets alone on a direct
 * connection to PostgreSQL (model-run.ts says what is normalised). After every case: weir
 * alive, control clients answered, ≤ pool_size server connections (also sampled during the
 * case), no error-level log line (e2e/fuzz/harness.ts).
 *
 * WEIR_MODEL_E2E_RUNS=n  cases of the main property (default 24, 6 in e2e-asan; the others scale with it)
 * WEIR_MODEL_E2E_SEED=n  replay (the seed is printed)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeir } from '@weir/testkit';
import { adminShow, serverConnectionCounter, startStack, USERS, type Stack } from '../helpers.js';
import { checkInvariants, type Target } from '../fuzz/harness.js';
import { compile, describeProgram, opArb, type Features, type Op } from '../../plugins/prepared-statements/src/programs.test-util.js';
import { compare, play, type ClientCase, type Endpoint } from './model-run.js';
import { PG_DIALECT, SCHEMA_SQL } from './model-sql.js';

/** Under the AddressSanitizer build (the e2e-asan project) a small run by default. */
const RUNS = Number(process.env.WEIR_MODEL_E2E_RUNS ?? (process.env.WEIR_TESTKIT_SANITIZE === '1' ? 6 : 24));
const SEED = Number(process.env.WEIR_MODEL_E2E_SEED ?? 20_261_207);
const POOL_SIZE = 2;
/** A property stops generating (and shrinking) after this long; a failure found is still reported. */
const PROPERTY_BUDGET_MS = 240_000;
/** At most this many pg_stat_activity samples per case. */
const MAX_SAMPLES = 200;
const REF_DB = 'model_ref';

const BASIC: Features = { failures: false, transactions: false, sqlCommands: false, duplicateNames: false };
const ALL: Features = { failures: true, transactions: true, sqlCommands: true, duplicateNames: true };

let stack: Stack;
let counter: Awaited<ReturnType<typeof serverConnectionCounter>>;

beforeAll(async () => {
  console.log(`prepared-statements e2e model: seed ${SEED} (WEIR_MODEL_E2E_SEED), ${RUNS} cases (WEIR_MODEL_E2E_RUNS), io ${process.env.WEIR_IO ?? 'native'}`);
  stack = await startStack({ name: 'e2e-model', poolMode: 'transaction', poolSize: POOL_SIZE, general: { query_wait_timeout: '30s' } });
  await stack.weir.stop(); // each variant runs its own weir on its own database
  for (const db of [REF_DB, 'model_a', 'model_b', 'model_c']) {
    await stack.cluster.createDatabase(db, USERS.md5.name);
    await stack.cluster.query(SCHEMA_SQL, [], { database: db });
  }
  counter = await serverConnectionCounter(stack.cluster);
});

afterAll(async () => {
  await counter?.close();
  await stack?.stop();
});

/** One weir with the plugin, alone on its database (pool = database); `restart` after a case broke something. */
interface Variant extends Target {
  restart(): Promise<void>;
}

async function startVariant(database: string, maxPerConnection: number, cacheAnonymous: boolean): Promise<Variant> {
  const plugin = `plugins:\n  prepared_statements:\n    enabled: true\n    max_per_connection: ${maxPerConnection}\n    cache_anonymous: ${cacheAnonymous}\n`;
  const yaml = stack.config.replace('\n  appdb:\n', `\n  ${database}:\n`).replace('\npools:\n', `\n${plugin}pools:\n`);
  const v: Variant = {
    weir: await startWeir({ config: yaml }), database, poolSize: POOL_SIZE, countServers: () => counter.count(database), logFrom: 0,
    // A failing case may leave server connections in a state the next case would trip over:
    // each case (and each shrink step) after a failure starts on a fresh weir, so the shrunk
    // counterexample fails by itself.
    async restart() {
      await v.weir.stop('SIGKILL').catch(() => {});
      for (let i = 0; i < 100 && (await counter.count(database)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      v.weir = await startWeir({ config: yaml });
      v.logFrom = 0;
    },
  };
  return v;
}

type Pipelining = 'all' | 'none' | 'mixed';

function caseArb(f: Features, pipelining: Pipelining, maxOps: number): fc.Arbitrary<Array<{ ops: Op[]; pipelined: boolean; cuts: number[] }>> {
  const pipelined = pipelining === 'mixed' ? fc.boolean() : fc.constant(pipelining === 'all');
  return fc.array(fc.record({
    ops: fc.array(opArb(f), { minLength: 1, maxLength: maxOps, size: 'max' }),
    pipelined,
    cuts: fc.array(fc.nat(4096), { maxLength: 12 }),
  }), { minLength: 3, maxLength: 6 });
}

/** Play one case on weir and on PostgreSQL directly; every difference and broken invariant, as text. */
/** What the cases covered, so that a run that tested nothing shows (and fails). */
interface Seen {
  answers: number;
  errors: number;
  rows: number;
}

async function runCase(t: Target, clients: ClientCase[], tag: string, seen: Seen): Promise<string[]> {
  const viaWeir: Endpoint = { port: t.weir.port, database: t.database };
  const direct: Endpoint = { port: stack.cluster.port, database: REF_DB };
  let running = true;
  let most = 0;
  const sampling = (async () => {
    for (let i = 0; i < MAX_SAMPLES && running; i++) most = Math.max(most, await counter.count(t.database));
  })();
  const [got, want] = await Promise.all([
    Promise.all(clients.map((c) => play(viaWeir, c))),
    Promise.all(clients.map((c) => play(direct, c))),
  ]).finally(() => (running = false));
  await sampling;
  for (const p of want) {
    seen.answers += p.messages.length;
    for (const m of p.messages) {
      if (m.type === 'E') seen.errors++;
      if (m.type === 'D') seen.rows++;
    }
  }
  const problems = compare(clients, got, want);
  if (most > t.poolSize) problems.push(`pg_stat_activity showed ${most} server connections during the case, pool_size is ${t.poolSize}`);
  for (const f of await checkInvariants(t, tag)) problems.push(`invariant ${f.invariant}: ${f.detail}`);
  return problems;
}

/** The plugin's counters for the variant's pool (SHOW PREPARED_STATEMENTS). */
async function pluginStats(t: Target): Promise<{ hits: number; misses: number; evictions: number }> {
  const row = (await adminShow(t.weir.port, 'PREPARED_STATEMENTS')).rows.find((r) => r.pool === `${USERS.md5.name}@${t.database}`) ?? {};
  return { hits: Number(row.hits ?? 0), misses: Number(row.misses ?? 0), evictions: Number(row.evictions ?? 0) };
}

async function check(t: Variant, name: string, f: Features, pipelining: Pipelining, runs: number, maxOps = 25): Promise<{ seen: Seen; stats: { hits: number; misses: number; evictions: number } }> {
  let n = 0;
  let first: string | undefined;
  const seen: Seen = { answers: 0, errors: 0, rows: 0 };
  const before = await pluginStats(t);
  const property = fc.asyncProperty(caseArb(f, pipelining, maxOps), async (cs) => {
    const clients: ClientCase[] = cs.map((c) => ({ program: compile(c.ops, f, PG_DIALECT), pipelined: c.pipelined, cuts: c.cuts }));
    const problems = await runCase(t, clients, `${name}-${n++}`, seen);
    if (problems.length === 0) return;
    // An invariant alone failed: show the case's programs too.
    if (!problems.some((p) => p.startsWith('client '))) {
      clients.forEach((c, i) => problems.push(`client ${i} (${c.pipelined ? 'pipelined' : 'run by run'}, cuts ${JSON.stringify(c.cuts)}), answers all agreed:\n${describeProgram(c.program).map((m) => `      ${m}`).join('\n')}`));
    }
    if (first === undefined) console.log(`  ${name}: first failing case (shrinking now):\n${(first = problems.join('\n')).slice(0, 4000)}`);
    await t.restart();
    throw new Error(`\n${problems.join('\n')}`);
  });
  const details = await fc.check(property, { numRuns: Math.max(1, runs), seed: SEED, interruptAfterTimeLimit: PROPERTY_BUDGET_MS, markInterruptAsFailure: false });
  const after = await pluginStats(t);
  const stats = { hits: after.hits - before.hits, misses: after.misses - before.misses, evictions: after.evictions - before.evictions };
  console.log(`  ${name}: ${details.numRuns} cases${details.interrupted ? ' (time budget reached)' : ''}${details.failed ? `, FAILED after ${details.numShrinks} shrinks` : ', all agree'}; ` +
    `${seen.answers} answers compared (${seen.rows} rows, ${seen.errors} errors); plugin: ${stats.hits} hits, ${stats.misses} misses, ${stats.evictions} evictions`);
  if (details.failed) {
    const shrunk = (details.errorInstance as Error | undefined)?.message ?? '(no error message)';
    throw new Error(`${name}: differs from PostgreSQL (replay: WEIR_MODEL_E2E_SEED=${SEED}, path ${details.counterexamplePath}).\nShrunk counterexample:${shrunk}`);
  }
  // (Rows are rare with failing statements and failed transactions; those properties check errors.)
  if (!f.failures) expect(seen.rows).toBeGreaterThan(0);
  expect(stats.misses).toBeGreaterThan(0); // the plugin's path ran
  return { seen, stats };
}

describe('prepared statements through the proxy, model-based, against PostgreSQL itself', () => {
  describe('max_per_connection 2, cache_anonymous on', () => {
    let t: Variant;
    beforeAll(async () => (t = await startVariant('model_a', 2, true)));
    afterAll(async () => t?.weir.stop());

    it('pipelining or not, with DEALLOCATE / DISCARD ALL, transactions', async () => {
      const { stats } = await check(t, 'a-pipelined', { ...BASIC, sqlCommands: true, transactions: true }, 'mixed', RUNS);
      expect(stats.evictions).toBeGreaterThan(0); // max_per_connection 2: statements were evicted and prepared again
      expect(stats.hits).toBeGreaterThan(0);
    });

    it('run by run, with failing statements, errors in transactions, names in use', async () => {
      const { seen } = await check(t, 'a-errors', ALL, 'none', RUNS);
      expect(seen.errors).toBeGreaterThan(0);
    });
  });

  describe('max_per_connection 3, cache_anonymous off', () => {
    let t: Variant;
    beforeAll(async () => (t = await startVariant('model_b', 3, false)));
    afterAll(async () => t?.weir.stop());

    it('unnamed statements go to the server as they are', async () => {
      await check(t, 'b-unnamed', { ...BASIC, sqlCommands: true, transactions: true, unnamedPerRun: true }, 'mixed', Math.round(RUNS * 2 / 3));
    });
  });

  describe('max_per_connection 8 (no evictions), cache_anonymous on', () => {
    let t: Variant;
    beforeAll(async () => (t = await startVariant('model_c', 8, true)));
    afterAll(async () => t?.weir.stop());

    // The plugin README's known limit: pipelined across Syncs, a Parse the server skipped after an
    // error counts as done for what was sent after its Sync — so each message that may fail ends its run.
    it('pipelining clients with errors, each ending its run of messages', async () => {
      const { seen } = await check(t, 'c-pipelined-errors', { failures: true, transactions: false, sqlCommands: false, duplicateNames: false, errorsEndGroups: true }, 'all', Math.round(RUNS * 2 / 3));
      expect(seen.errors).toBeGreaterThan(0);
    });
  });
});
