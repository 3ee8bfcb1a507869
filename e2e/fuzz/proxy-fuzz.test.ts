/**
 * Fuzzes the weir proxy itself (not only @weir/protocol) with hostile byte streams after login,
 * with the prepared_statements plugin on and off, in transaction and session mode, pool_size 2
 * (so the server connections a hostile client touched are the ones the control clients get).
 * After every case: weir alive, control clients answered right within 10 s, at most pool_size
 * server connections, no error-level log line. Each distinct failure is shrunk and printed as hex.
 *
 * WEIR_FUZZ_RUNS=n   cases per mode (default 150)
 * WEIR_FUZZ_SEED=n   replay a run (the seed is printed)
 * WEIR_FUZZ_SHRINK_MS=n  time per mode for shrinking failures (default 30 s)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startWeir } from '@weir/testkit';
import { serverConnectionCounter, sleep, startStack, USERS, type Stack, type WeirInstance } from '../helpers.js';
import { describeCase, fuzzCase, type FuzzCase } from './cases.js';
import { checkInvariants, runCase, type Failure, type Target } from './harness.js';
import { shrink } from './minimize.js';

const RUNS = Number(process.env.WEIR_FUZZ_RUNS ?? 200);
const SEED = Number(process.env.WEIR_FUZZ_SEED ?? 20_261_205);
/** Stop a mode after this many failing cases (each costs a weir restart), or when its case budget is spent. */
const MAX_FAILURES = 10;
const CASE_BUDGET_MS = 100_000;
const SHRINK_BUDGET_MS = Number(process.env.WEIR_FUZZ_SHRINK_MS ?? 30_000);
const POOL_SIZE = 2;
const PLUGIN = 'plugins:\n  prepared_statements:\n    enabled: true\n    max_per_connection: 100\n    cache_anonymous: true\n';

let stack: Stack;
let counter: Awaited<ReturnType<typeof serverConnectionCounter>>;

beforeAll(async () => {
  console.log(`proxy fuzz: seed ${SEED} (WEIR_FUZZ_SEED), ${RUNS} cases per mode (WEIR_FUZZ_RUNS)`);
  stack = await startStack({ name: 'e2e-fuzz', poolMode: 'transaction', poolSize: POOL_SIZE, general: { query_wait_timeout: '8s' } });
  await stack.weir.stop(); // each mode runs its own weir on its own database
  for (const [, , , db] of MODES) {
    await stack.cluster.createDatabase(db, USERS.md5.name);
    await stack.cluster.query('CREATE TABLE fz (v text); GRANT ALL ON fz TO PUBLIC', [], { database: db });
  }
  counter = await serverConnectionCounter(stack.cluster);
});

afterAll(async () => {
  await counter?.close();
  await stack?.stop();
});

/** One weir of a mode, alone on its database (pool = database), restartable after a case broke it. */
class Mode {
  weir!: WeirInstance;
  target!: Target;
  constructor(private readonly poolMode: 'transaction' | 'session', private readonly plugin: boolean, readonly database: string) {}

  async start(): Promise<void> {
    // Bounded wait for a killed weir's server connections to go.
    for (let i = 0; i < 100 && (await counter.count(this.database)) > 0; i++) await sleep(100);
    const yaml = stack.config
      .replace('\n  appdb:\n', `\n  ${this.database}:\n`)
      .replace(/pool_mode: \w+/, `pool_mode: ${this.poolMode}`)
      .replace('\npools:\n', `\n${this.plugin ? PLUGIN : ''}pools:\n`);
    this.weir = await startWeir({ config: yaml });
    this.target = { weir: this.weir, database: this.database, poolSize: POOL_SIZE, countServers: () => counter.count(this.database), logFrom: this.weir.logs.length };
  }

  async restart(): Promise<void> {
    await this.weir.stop('SIGKILL');
    await this.start();
  }

  async stop(): Promise<void> {
    await this.weir?.stop();
  }

  /** Run one case and check every invariant after it. */
  async run(c: FuzzCase, tag: string): Promise<Failure[]> {
    const f: Failure[] = [];
    try {
      await runCase(this.weir.port, this.database, c);
    } catch (e) {
      f.push({ invariant: 'login', detail: (e as Error).message });
    }
    return [...f, ...(await checkInvariants(this.target, tag))];
  }
}

/** The same failure twice has the same signature: invariant and message with numbers and tokens masked. */
const signature = (f: Failure[]) =>
  f.map((x) => `${x.invariant}: ${x.detail.replace(/c\d+-\w+/g, 'TOK').replace(/\d+/g, 'N').slice(0, 160)}`).sort().join(' + ');

interface Found {
  sig: string;
  first: number;
  count: number;
  failures: Failure[];
  c: FuzzCase;
}

async function fuzzMode(index: number, mode: Mode): Promise<{ found: Found[]; ran: number }> {
  const cases = fc.sample(fuzzCase, { seed: SEED + index, numRuns: RUNS });
  const found = new Map<string, Found>();
  let failing = 0;
  let ran = 0;
  await mode.start();
  const caseDeadline = Date.now() + CASE_BUDGET_MS;
  try {
    for (let i = 0; i < cases.length && failing < MAX_FAILURES && Date.now() < caseDeadline; i++, ran++) {
      const f = await mode.run(cases[i]!, `c${i}`);
      if (f.length === 0) continue;
      failing++;
      const sig = signature(f);
      const seen = found.get(sig);
      if (seen) seen.count++;
      else found.set(sig, { sig, first: i, count: 1, failures: f, c: cases[i]! });
      await mode.restart();
    }
    const shrinkDeadline = Date.now() + SHRINK_BUDGET_MS;
    for (const x of found.values()) {
      if (Date.now() >= shrinkDeadline) {
        x.sig += ' (not shrunk: shrink budget spent)';
        continue;
      }
      let broke = false;
      const r = await shrink(x.c, async (cand) => {
        if (broke) await mode.restart();
        const f = await mode.run(cand, 'shrink');
        broke = f.length > 0;
        return broke && signature(f) === x.sig;
      }, 40, Math.min(Math.max(10_000, SHRINK_BUDGET_MS / 4), shrinkDeadline - Date.now()));
      if (broke) await mode.restart();
      broke = false;
      x.c = r.smallest;
      x.sig += r.alone ? ` (fails alone; shrunk in ${r.trials} trials)` : ' (did NOT fail alone on a fresh weir: needs earlier state)';
    }
  } finally {
    await mode.stop();
  }
  return { found: [...found.values()], ran };
}

const report = (name: string, ran: number, found: Found[]) =>
  `${name}: ${found.reduce((n, x) => n + x.count, 0)} of ${ran} cases failed (seed ${SEED}), ${found.length} distinct:\n` +
  found.map((x) => `- [case ${x.first}, ${x.count}x] ${x.sig}\n  ${x.failures.map((f) => `${f.invariant}: ${f.detail}`).join('\n  ')}\n  reproducer: ${describeCase(x.c)}`).join('\n');

const MODES: [string, 'transaction' | 'session', boolean, string][] = [
  ['plugin on, transaction mode', 'transaction', true, 'fz_on_tx'],
  ['plugin on, session mode', 'session', true, 'fz_on_sess'],
  ['plugin off, transaction mode', 'transaction', false, 'fz_off_tx'],
  ['plugin off, session mode', 'session', false, 'fz_off_sess'],
];

describe('hostile byte streams after login leave weir alive and its server connections clean', () => {
  // The four modes run at once, each weir on its own database (so counts stay per weir).
  MODES.forEach(([name, poolMode, plugin, db], i) => {
    it.concurrent(`${name}: ${RUNS} cases`, async ({ expect }) => {
      const { found, ran } = await fuzzMode(i, new Mode(poolMode, plugin, db));
      const text = report(name, ran, found);
      console.log(text);
      expect(found.map((x) => x.sig), text).toEqual([]);
    }, CASE_BUDGET_MS + SHRINK_BUDGET_MS + 45_000);
  });
});
