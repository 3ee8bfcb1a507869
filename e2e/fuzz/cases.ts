/**
 * fast-check arbitraries of hostile post-login byte streams: valid frontend messages, the same
 * with mutated bodies, lying lengths, huge counts, random type bytes and garbage, cut into
 * several writes with pauses between some of them.
 */
import fc from 'fast-check';
import * as W from './wire.js';

export type Ending = 'terminate' | 'end' | 'destroy' | 'linger';

export interface FuzzCase {
  /** The messages (hostile or not), in order; concatenated they are the stream. */
  messages: Buffer[];
  /** Offsets into the stream (mod its length) where one write ends and the next begins. */
  cuts: number[];
  /** pauses[i]: sleep a little after write i. */
  pauses: boolean[];
  ending: Ending;
}

/** The writes a case makes, in order, each with whether a pause follows it. */
export function writesOf(c: FuzzCase): { bytes: Buffer; pause: boolean }[] {
  return W.splitAt(Buffer.concat(c.messages), c.cuts).map((bytes, i) => ({ bytes, pause: c.pauses[i] ?? false }));
}

/** A replayable description: each write as hex, `|pause|` where the case sleeps, and the ending. */
export function describeCase(c: FuzzCase): string {
  const parts = writesOf(c).map((w) => w.bytes.toString('hex') + (w.pause ? ' |pause|' : ''));
  return `writes: [${parts.join(', ')}] then ${c.ending}`;
}

const SQL = [
  'select 1', 'select $1::int', 'select $1::text, $2::int', 'begin', 'commit', 'rollback', 'copy fz from stdin',
  'copy (select 1) to stdout', 'select pg_sleep(0.05)', "set application_name = 'fz'", 'prepare p1 as select 1',
  'deallocate all', 'discard all', 'listen fz', '', 'select 1; select 2', 'select * from generate_series(1, 300)',
  'syntax error here', "select pg_advisory_lock(7)",
];
const text = fc.string({ unit: 'binary-ascii', maxLength: 12 }).map((s) => s.replace(/\0/g, ''));
const sql = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SQL) }, { weight: 1, arbitrary: text });
const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('', 's1', 's2', 'p1', 'weir_1', 'weir_2') }, { weight: 1, arbitrary: text });
const kind = fc.constantFrom<'S' | 'P'>('S', 'P');
const oid = fc.constantFrom(0, 23, 25, 177, 2026, 0x7fffffff, -1);
const value = fc.oneof(
  fc.constantFrom<Buffer | null>(null, Buffer.from('1'), Buffer.from('abc'), Buffer.alloc(0), Buffer.from('-2147483649')),
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
);
const fmt = fc.constantFrom(0, 1, 2, 0xffff);
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

export const validMessage: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: sql.map(W.query) },
  { weight: 3, arbitrary: fc.tuple(name, sql, fc.array(oid, { maxLength: 3 })).map(([n, q, t]) => W.parse(n, q, t)) },
  { weight: 3, arbitrary: fc.tuple(name, name, fc.array(fmt, { maxLength: 2 }), fc.array(value, { maxLength: 3 }), fc.array(fmt, { maxLength: 2 }))
    .map(([p, s, f, v, r]) => W.bind(p, s, f, v, r)) },
  { weight: 2, arbitrary: fc.tuple(kind, name).map(([k, n]) => W.describe(k, n)) },
  { weight: 2, arbitrary: fc.tuple(name, fc.constantFrom(0, 1, 5, -1)).map(([p, n]) => W.execute(p, n)) },
  { weight: 1, arbitrary: fc.tuple(kind, name).map(([k, n]) => W.close(k, n)) },
  { weight: 3, arbitrary: fc.constant(null).map(W.sync) },
  { weight: 1, arbitrary: fc.constant(null).map(W.flush) },
  { weight: 1, arbitrary: bytes(32).map(W.copyData) },
  { weight: 1, arbitrary: fc.constant(null).map(W.copyDone) },
  { weight: 1, arbitrary: text.map(W.copyFail) },
  { weight: 1, arbitrary: fc.tuple(oid, fc.array(fmt, { maxLength: 2 }), fc.array(value, { maxLength: 2 }), fmt)
    .map(([o, f, a, r]) => W.functionCall(o, f, a, r)) },
);

const INTERESTING = [-1, 0, 1, 3, 4, 5, 255, 0x7fff, 0x8000, 0xffff, 40_000, 1 << 30, 0x7fffffff, -0x80000000];
const mutation: fc.Arbitrary<W.Mutation> = fc.oneof(
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('int32' as const), at: fc.nat(), v: fc.constantFrom(...INTERESTING) }),
  fc.record({ op: fc.constant('int16' as const), at: fc.nat(), v: fc.constantFrom(...INTERESTING) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), v: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 6 }) }),
  fc.constant({ op: 'dropNuls' as const }),
);

/** Lengths that lie: shorter than the header, huge, just over weir's 64 MiB cap, or off by a little. */
const LIES = [-1, 0, 1, 3, 100_000, (1 << 26) + 1, 1 << 30, 0x7fffffff, -0x80000000];
const TYPES = 'PBDECSHQdcfFXp';
const typeByte = fc.oneof(fc.constantFrom(...TYPES.split('')), fc.integer({ min: 0, max: 255 }));

export const hostileMessage: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(validMessage, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([m, muts, keep]) => W.mutateBody(m, muts, keep)) },
  { weight: 1, arbitrary: fc.tuple(typeByte, fc.constantFrom(...LIES), bytes(16)).map(([t, len, b]) => W.msg(t, b, len)) },
  { weight: 1, arbitrary: fc.tuple(validMessage, fc.integer({ min: -8, max: 8 })).map(([m, d]) => W.msg(m[0]!, m.subarray(5), m.readInt32BE(1) + d)) },
  { weight: 1, arbitrary: fc.tuple(typeByte, bytes(48)).map(([t, b]) => W.msg(t, b)) },
  { weight: 1, arbitrary: fc.tuple(validMessage, typeByte).map(([m, t]) => W.msg(t, m.subarray(5))) },
  { weight: 1, arbitrary: fc.constantFrom(
    W.parseManyTypes('', 40_000), W.parseManyTypes('s1', 0xffff), W.bindManyValues('', 40_000),
    W.msg('P', Buffer.concat([W.cstr(''), W.cstr('select 1'), W.i16(40_000)])),
    W.msg('B', Buffer.concat([W.cstr(''), W.cstr(''), W.i16(0), W.i16(40_000)])),
    W.msg('B', Buffer.concat([W.cstr(''), W.cstr(''), W.i16(0xffff)])),
    W.msg('F', Buffer.concat([W.i32(177), W.i16(0), W.i16(40_000)])),
  ) },
  { weight: 1, arbitrary: bytes(40) },
);

const message = fc.oneof({ weight: 3, arbitrary: validMessage }, { weight: 2, arbitrary: hostileMessage });

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    messages: fc.array(message, { minLength: 1, maxLength: 10 }),
    syncAtEnd: fc.boolean(),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
    headerCut: fc.boolean(),
    pauses: fc.array(fc.boolean(), { maxLength: 7 }),
    ending: fc.constantFrom<Ending>('terminate', 'end', 'destroy', 'linger'),
  })
  .map((r) => {
    const messages = r.syncAtEnd ? [...r.messages, W.sync()] : r.messages;
    // Cut inside the length header of the last message, pausing after every write: a header split across writes.
    const total = messages.reduce((n, m) => n + m.length, 0);
    const last = total - messages[messages.length - 1]!.length;
    const cuts = r.headerCut ? [...r.cuts, last + 2] : r.cuts;
    const pauses = r.headerCut ? Array.from({ length: 8 }, () => true) : r.pauses;
    return { messages, cuts, pauses, ending: r.ending };
  });
