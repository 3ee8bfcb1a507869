/**
 * Fuzzes the weir proxy itself (not only @weir/protocol) with hostile byte streams after login,
 * with the prepared_statements plugin on and off, in transaction and session mode, pool_size 2
 * (so the server connections a hostile client touched are the ones the control clients get).
 * After every case: weir alive, control clients answered right within 10 s, at most pool_size
 * server connections, no error-level log line. Each distinct failure is shrunk and printed as hex.
 *
 * WEIR_FUZZ_RUNS=n   cases per mode (default 150)
 * WEIR_FUZZ_SEED=n   replay a run (the seed is printed)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConnectionCounter, sleep, startStack, type Stack, type WeirInstance } from '../helpers.js';
import { describeCase, fuzzCase, type FuzzCase } from './cases.js';
import { checkInvariants, runCase, type Failure, type Target } from './harness.js';
import { shrink } from './minimize.js';

const RUNS = Number(process.env.WEIR_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.WEIR_FUZZ_SEED ?? 20_261_205);
/** Stop a mode after this many failing cases (each costs a weir restart). */
const MAX_FAILURES = 10;
const POOL_SIZE = 2;
const PLUGIN = 'plugins:\n  prepared_statements:\n    enabled: true\n    max_per_connection: 100\n    cache_anonymous: true\n';

let stack: Stack;
let counter: Awaited<ReturnType<typeof serverConnectionCounter>>;

beforeAll(async () => {
  console.log(`proxy fuzz: seed ${SEED} (WEIR_FUZZ_SEED), ${RUNS} cases per mode (WEIR_FUZZ_RUNS)`);
  stack = await startStack({ name: 'e2e-fuzz', poolMode: 'transaction', poolSize: POOL_SIZE, general: { query_wait_timeout: '8s' } });
  await stack.cluster.query('CREATE TABLE fz (v text); GRANT ALL ON fz TO PUBLIC', [], { database: 'appdb' });
  counter = await serverConnectionCounter(stack.cluster);
  await stack.weir.stop(); // each mode runs its own weir, alone, so pg_stat_activity is its count
});

afterAll(async () => {
  await counter?.close();
  await stack?.stop();
});

/** Wait (bounded) until no weir holds a server connection to appdb. */
async function drained(): Promise<void> {
  for (let i = 0; i < 100 && (await counter.count()) > 0; i++) await sleep(100);
}

/** One weir of a mode, restartable after a case broke it. */
class Mode {
  weir!: WeirInstance;
  target!: Target;
  constructor(private readonly poolMode: 'transaction' | 'session', private readonly plugin: boolean) {}

  async start(): Promise<void> {
    await drained();
    this.weir = await stack.startAnotherWeir({ poolMode: this.poolMode, poolSize: POOL_SIZE, plugins: this.plugin ? PLUGIN : undefined });
    this.target = { weir: this.weir, poolSize: POOL_SIZE, countServers: () => counter.count(), logFrom: this.weir.logs.length };
  }

  async restart(): Promise<void> {
    await this.weir.stop('SIGKILL');
    await this.start();
  }

  async stop(): Promise<void> {
    await this.weir.stop();
  }

  /** Run one case and check every invariant after it. */
  async run(c: FuzzCase, tag: string): Promise<Failure[]> {
    const f: Failure[] = [];
    try {
      await runCase(this.weir.port, c);
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
  try {
    for (let i = 0; i < cases.length && failing < MAX_FAILURES; i++, ran++) {
      const f = await mode.run(cases[i]!, `c${i}`);
      if (f.length === 0) continue;
      failing++;
      const sig = signature(f);
      const seen = found.get(sig);
      if (seen) seen.count++;
      else found.set(sig, { sig, first: i, count: 1, failures: f, c: cases[i]! });
      await mode.restart();
    }
    for (const x of found.values()) {
      let broke = false;
      const r = await shrink(x.c, async (cand) => {
        if (broke) await mode.restart();
        const f = await mode.run(cand, 'shrink');
        broke = f.length > 0;
        return broke && signature(f) === x.sig;
      });
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

const MODES: [string, 'transaction' | 'session', boolean][] = [
  ['plugin on, transaction mode', 'transaction', true],
  ['plugin on, session mode', 'session', true],
  ['plugin off, transaction mode', 'transaction', false],
  ['plugin off, session mode', 'session', false],
];

describe('hostile byte streams after login leave weir alive and its server connections clean', () => {
  MODES.forEach(([name, poolMode, plugin], i) => {
    it(`${name}: ${RUNS} cases`, async () => {
      const { found, ran } = await fuzzMode(i, new Mode(poolMode, plugin));
      const text = report(name, ran, found);
      console.log(text);
      expect(found.map((x) => x.sig), text).toEqual([]);
    });
  });
});
