// Kernel pool micro-benchmark (run after `npm run build`; NOT a test):
//   node bench/kernel.mjs [--quick]
// 1. acquire/release cycles per second: @weir/kernel Pool vs pg-pool, over the same fake client
//    (no I/O: connect completes on the next tick, end is immediate).
// 2. cost of checkout/release in ns per op: no hook machinery at all, 0 handlers, 1 no-op handler.
// Every figure is the median of several interleaved rounds; iteration counts are bounded.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Pool, Hooks } = require('@weir/kernel');
const PgPool = require('pg-pool');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const CYCLES = quick ? 50_000 : 200_000; // sequential acquire/release per round
const CONCURRENT_CYCLES = quick ? 50_000 : 200_000; // total over all workers per round
const WORKERS = 16;
const MAX = 4;
const HOOK_OPS = quick ? 500_000 : 2_000_000;

/** The fake server connection both pools manage. */
class FakeClient extends EventEmitter {
  constructor() {
    super();
    this._queryable = true;
    this._ending = false;
  }
  connect(cb) {
    setImmediate(() => cb(null));
  }
  end(cb) {
    this._ending = true;
    if (cb) setImmediate(cb);
    this.emit('end');
  }
}

/** Kernel connector over the same fake client. */
const connector = {
  connect() {
    const c = new FakeClient();
    return new Promise((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve(c))));
  },
  destroy(c) {
    c.end();
  },
};

const info = { name: 'bench@bench', key: { database: 'bench', user: 'bench' }, kind: 'static' };

function kernelPool(hooks = new Hooks()) {
  return new Pool({ info, connector, hooks, options: { max: MAX, acquireTimeoutMs: 5_000, idleTimeoutMs: 10_000 } });
}

function pgPool(idleTimeoutMillis) {
  return new PgPool({ Client: FakeClient, max: MAX, idleTimeoutMillis, connectionTimeoutMillis: 5_000 });
}

/** Hooks with no machinery at all: the floor an empty hook is compared against. */
class NoHooks extends Hooks {
  runCheckout() {}
  runRelease() {}
}

const now = () => process.hrtime.bigint();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function warm(acquire, release) {
  for (let i = 0; i < 20_000; i++) release(await acquire());
}

/** Sequential: one caller, acquire then release, n times. Returns cycles per second. */
async function sequential(acquire, release, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) release(await acquire());
  return n / (Number(now() - t0) / 1e9);
}

/** Contended: WORKERS callers share MAX connections (waiters, hand-off). Returns cycles per second. */
async function concurrent(acquire, release, n) {
  const per = Math.floor(n / WORKERS);
  const worker = async () => {
    for (let i = 0; i < per; i++) {
      const c = await acquire();
      await null; // hold it across a tick, like a real query would
      release(c);
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return (per * WORKERS) / (Number(now() - t0) / 1e9);
}

/** Sync hot path: tryAcquire + release, n times. Returns ns per cycle. */
function syncCycle(pool, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) pool.tryAcquire().release();
  return Number(now() - t0) / n;
}

async function main() {
  const k = kernelPool();
  const kAcquire = () => k.acquire();
  const kRelease = (lease) => lease.release();
  const pg = pgPool(10_000);
  const pg0 = pgPool(0);
  const pgAcquire = () => pg.connect();
  const pg0Acquire = () => pg0.connect();
  const pgRelease = (client) => client.release();

  await warm(kAcquire, kRelease);
  await warm(pgAcquire, pgRelease);
  await warm(pg0Acquire, pgRelease);

  const rows = { kSeq: [], pgSeq: [], pg0Seq: [], kCon: [], pgCon: [], pg0Con: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rows.kSeq.push(await sequential(kAcquire, kRelease, CYCLES));
    rows.pgSeq.push(await sequential(pgAcquire, pgRelease, CYCLES));
    rows.pg0Seq.push(await sequential(pg0Acquire, pgRelease, CYCLES));
    rows.kCon.push(await concurrent(kAcquire, kRelease, CONCURRENT_CYCLES));
    rows.pgCon.push(await concurrent(pgAcquire, pgRelease, CONCURRENT_CYCLES));
    rows.pg0Con.push(await concurrent(pg0Acquire, pgRelease, CONCURRENT_CYCLES));
  }

  // hook cost, on the sync path so promise scheduling does not drown it
  const none = kernelPool(new NoHooks());
  const zero = kernelPool(new Hooks());
  const oneHooks = new Hooks();
  oneHooks.on('checkout', () => {}, 'noop');
  oneHooks.on('release', () => {}, 'noop');
  const one = kernelPool(oneHooks);
  for (const p of [none, zero, one]) {
    (await p.acquire()).release();
    syncCycle(p, 200_000);
  }
  const hook = { none: [], zero: [], one: [] };
  for (let r = 0; r < ROUNDS; r++) {
    hook.none.push(syncCycle(none, HOOK_OPS));
    hook.zero.push(syncCycle(zero, HOOK_OPS));
    hook.one.push(syncCycle(one, HOOK_OPS));
  }

  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  const kSeq = median(rows.kSeq);
  const kCon = median(rows.kCon);
  console.log(`\nacquire/release cycles per second (median of ${ROUNDS} rounds, max=${MAX}; ${CYCLES} sequential, ${CONCURRENT_CYCLES} over ${WORKERS} workers)`);
  console.log('| pool                               | sequential     | contended      | kernel ÷ this (seq / contended) |');
  console.log('| ---------------------------------- | -------------: | -------------: | ------------------------------: |');
  const line = (name, seq, con) =>
    console.log(`| ${name.padEnd(34)} | ${fmt(seq).padStart(14)} | ${fmt(con).padStart(14)} | ${`${(kSeq / seq).toFixed(2)}× / ${(kCon / con).toFixed(2)}×`.padStart(31)} |`);
  line('@weir/kernel Pool', kSeq, kCon);
  line('pg-pool 3.14.0 (idleTimeout 10s)', median(rows.pgSeq), median(rows.pgCon));
  line('pg-pool 3.14.0 (idleTimeout off)', median(rows.pg0Seq), median(rows.pg0Con));

  const hn = median(hook.none);
  const hz = median(hook.zero);
  const h1 = median(hook.one);
  console.log(`\ncheckout+release on the sync path (tryAcquire + release), ns per cycle (median of ${ROUNDS} × ${HOOK_OPS})`);
  console.log('| hooks                                   | ns/cycle | vs no hook machinery |');
  console.log('| --------------------------------------- | -------: | -------------------: |');
  console.log(`| no hook machinery (runners stubbed out) | ${hn.toFixed(1).padStart(8)} | ${'—'.padStart(20)} |`);
  console.log(`| 0 handlers                              | ${hz.toFixed(1).padStart(8)} | ${`${hz - hn >= 0 ? '+' : ''}${(hz - hn).toFixed(1)} ns`.padStart(20)} |`);
  console.log(`| 1 no-op handler on checkout and release | ${h1.toFixed(1).padStart(8)} | ${`${h1 - hn >= 0 ? '+' : ''}${(h1 - hn).toFixed(1)} ns`.padStart(20)} |`);
  console.log(`\ngoal: ≥ 3× pg-pool — sequential ${(kSeq / median(rows.pgSeq)).toFixed(2)}×, contended ${(kCon / median(rows.pgCon)).toFixed(2)}×`);

  await Promise.all([k.close(), none.close(), zero.close(), one.close(), pg.end(), pg0.end()]);
}

await main();
