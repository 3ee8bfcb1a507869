/**
 * Model-based test of prepared statements through transaction pooling: many clients, each
 * running a random program of named/unnamed Parse, Bind, Describe, Execute, Close, Sync and
 * simple queries (DEALLOCATE, DISCARD ALL, BEGIN/COMMIT, failing statements), interleaved at
 * random byte boundaries over a few fake server connections (FakeBackend) through the real
 * Interceptor and the plugin's handlers, with small max_per_connection (evictions) and server
 * connections dropped while idle. The reference: each client's bytes run alone on a private
 * FakeBackend (what PostgreSQL would answer on a dedicated connection). Every client must get
 * the same answers (statement names, invisible to clients, blanked in error messages), no
 * server connection may ever hold more than max_per_connection statements, and the cache must
 * match what each server connection really holds whenever it goes back to the pool.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, bind, close, execute, query, SYNC } from '@weir/protocol';
import { normalise, rowOf } from './fake-backend.test-util.js';
import { compare, reference, run } from './pooler-sim.test-util.js';
import { compile, opArb, TEXTS_COUNT, type Features } from './programs.test-util.js';

/** More runs for a deeper search: WEIR_MODEL_RUNS=5000 npx vitest run … (scales every property's run count). */
const SCALE = Number(process.env.WEIR_MODEL_RUNS ?? 600) / 300;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const ALL: Features = { failures: true, transactions: true, sqlCommands: true, duplicateNames: true };
const NO_TX: Features = { ...ALL, transactions: false };
const BASIC: Features = { failures: false, transactions: false, sqlCommands: false, duplicateNames: false };

interface PropertyOptions {
  pipelined: boolean;
  clients?: number;
  ops?: number;
  maxBound?: number;
  minBound?: number;
  cacheAnonymous?: boolean;
  /** Registry size (max_statements); default: 1, 2 or 1000. */
  maxStatements?: number;
}

function property(f: Features, opts: PropertyOptions) {
  return fc.property(
    fc.array(fc.array(opArb(f), { minLength: 1, maxLength: opts.ops ?? 30 }), { minLength: 1, maxLength: opts.clients ?? 6 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: opts.minBound ?? 1, max: opts.maxBound ?? 4 }),
    fc.integer(),
    fc.boolean(),
    opts.maxStatements !== undefined ? fc.constant(opts.maxStatements) : fc.constantFrom(1, 2, 1000),
    (ops, servers, max, seed, drops, maxStatements) => {
      const programs = ops.map((o) => compile(o, f));
      const result = run(programs, { servers, max, cacheAnonymous: opts.cacheAnonymous ?? true, seed, drops, pipelined: opts.pipelined, maxStatements });
      compare(programs, result);
    },
  );
}

describe('prepared statements through transaction pooling (model)', () => {
  it('fake backend: the reference answers what PostgreSQL would', () => {
    const out = normalise(reference([[
      parse('a', 'SELECT b $1'), bind('', 'a', ['7']), execute(''), SYNC,
      parse('a', 'SELECT b $1'), SYNC,
      bind('', 'zz', []), execute(''), SYNC,
      query('SELECT 1'),
    ]].flat()));
    expect(out.map((m) => m.type).join('')).toBe('12DCZEZEZTDCZ');
    expect(out[2].body).toContain(rowOf('SELECT b $1', ['7']));
    expect(out[5].body).toBe('42P05 prepared statement "?" already exists');
    expect(out[7].body).toBe('26000 prepared statement "?" does not exist');
  });

  it('pipelining clients, no errors: same answers as on a dedicated connection, bound kept', () => {
    fc.assert(property(BASIC, { pipelined: true }), { numRuns: runs(300) });
  });

  it('pipelining clients with DEALLOCATE / DISCARD ALL', () => {
    fc.assert(property({ ...BASIC, sqlCommands: true }, { pipelined: true }), { numRuns: runs(300) });
  });

  it('clients waiting for each ReadyForQuery, with errors, transactions, DEALLOCATE / DISCARD ALL, names in use', () => {
    fc.assert(property(ALL, { pipelined: false }), { numRuns: runs(400) });
  });

  it('pipelining clients with errors (each ending its run of messages), no transactions, no evictions', () => {
    // (Known limits, see the plugin README: with pipelining across Syncs, a Parse whose answer is
    // still to come counts as done for the messages sent after that Sync: if the server skips it
    // after an error, a Bind or DEALLOCATE of its name can work where PostgreSQL says it does not
    // exist; and a second Parse of the name is not refused. Skipping within one run of messages
    // is covered by the test above.)
    fc.assert(property({ ...NO_TX, sqlCommands: false, duplicateNames: false, errorsEndGroups: true }, { pipelined: true, minBound: TEXTS_COUNT, maxBound: TEXTS_COUNT + 2, maxStatements: 1000 }), { numRuns: runs(400) });
  });

  it('cache_anonymous off: Close of the unnamed statement reaches the server', () => {
    const program = [parse('', 'SELECT a'), close('S', ''), bind('', ''), execute(), SYNC];
    for (const cacheAnonymous of [false, true]) {
      const result = run([program], { servers: 1, max: 2, cacheAnonymous, seed: 1, drops: false });
      compare([program], result);
    }
  });

  it('cache_anonymous off: unnamed statements go to the server as they are', () => {
    const f: Features = { ...BASIC, sqlCommands: true, transactions: true, unnamedPerRun: true };
    fc.assert(property(f, { pipelined: false, cacheAnonymous: false }), { numRuns: runs(200) });
    fc.assert(property(f, { pipelined: true, cacheAnonymous: false }), { numRuns: runs(200) });
  });

  it('long programs (20 to 80 steps), up to 10 clients, up to 4 server connections', () => {
    const kinds: Array<[Features, boolean, number, number, number[]]> = [
      [ALL, false, 1, 4, [1, 3, 1000]],
      [{ ...BASIC, sqlCommands: true, transactions: true }, true, 1, 4, [1, 3, 1000]],
      [{ ...NO_TX, sqlCommands: false, duplicateNames: false, errorsEndGroups: true }, true, TEXTS_COUNT, TEXTS_COUNT + 2, [1000]],
    ];
    for (const [f, pipelined, lo, hi, registry] of kinds) {
      fc.assert(fc.property(
        fc.array(fc.array(opArb(f), { minLength: 20, maxLength: 80 }), { minLength: 2, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: lo, max: hi }), fc.integer(), fc.boolean(), fc.constantFrom(...registry),
        (ops, servers, max, seed, drops, maxStatements) => {
          const programs = ops.map((o) => compile(o, f));
          compare(programs, run(programs, { servers, max, cacheAnonymous: true, seed, drops, pipelined, maxStatements }));
        },
      ), { numRuns: runs(60) });
    }
  });

  it('many clients, many statements, two server connections, bound 2', () => {
    let evictions = 0;
    let hits = 0;
    fc.assert(fc.property(
      fc.array(fc.array(opArb(BASIC), { minLength: 10, maxLength: 60 }), { minLength: 20, maxLength: 40 }),
      fc.integer(),
      fc.boolean(),
      (ops, seed, pipelined) => {
        const programs = ops.map((o) => compile(o, BASIC));
        const result = run(programs, { servers: 2, max: 2, cacheAnonymous: true, seed, drops: true, pipelined });
        compare(programs, result);
        evictions += result.stats.evictions;
        hits += result.stats.hits;
      },
    ), { numRuns: runs(30) });
    expect(evictions).toBeGreaterThan(0);
    expect(hits).toBeGreaterThan(0);
  });
});
