import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Framer } from '@weir/protocol';
import { loadNative } from './index.js';

const loaded = loadNative();
const MAX = 1 << 16;

/** What @weir/protocol's Framer (the reference) makes of the same bytes: pairs, or the failing chunk. */
function reference(chunks: Buffer[]): { pairs: number[]; failedAt: number; atBoundary: boolean } {
  const f = new Framer(MAX);
  const pairs: number[] = [];
  for (let i = 0; i < chunks.length; i++) {
    f.push(chunks[i]);
    try {
      while (f.next()) pairs.push(f.type, f.end - f.start - 1);
    } catch {
      return { pairs, failedAt: i, atBoundary: false };
    }
  }
  return { pairs, failedAt: -1, atBoundary: f.pendingBytes() === 0 };
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const message = fc.oneof(
  // a well-formed message
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 })).map(([t, body]) => {
    const b = Buffer.alloc(5 + body.length);
    b[0] = t;
    b.writeInt32BE(body.length + 4, 1);
    b.set(body, 5);
    return b;
  }),
  // a lying header: any length at all, with whatever follows
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.uint8Array({ maxLength: 40 })).map(([t, len, rest]) => {
    const b = Buffer.alloc(5 + rest.length);
    b[0] = t;
    b.writeInt32BE(len, 1);
    b.set(rest, 5);
    return b;
  }),
  // a huge (but allowed or just over the limit) length, truncated
  fc.constantFrom(MAX, MAX + 1, 2 ** 31 - 1, 3).map((len) => {
    const b = Buffer.alloc(5);
    b[0] = 0x51;
    b.writeInt32BE(len, 1);
    return b;
  }),
  // raw noise
  fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)),
);

describe.skipIf(loaded.io === null)('native framer (the data plane\'s one framing core)', () => {
  const io = loaded.io!;

  it('frames exactly as @weir/protocol does: random messages, random splits, lying and huge lengths (100,000 inputs)', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (msgs, cuts) => {
        const chunks = split(Buffer.concat(msgs), cuts);
        const want = reference(chunks);
        const got = io.frames(chunks, MAX);
        if (want.failedAt >= 0) {
          expect(got).toBe(-want.failedAt - 1);
        } else {
          expect(typeof got).toBe('object');
          const arr = got as number[] & { atBoundary: boolean };
          expect([...arr]).toEqual(want.pairs);
          expect(arr.atBoundary).toBe(want.atBoundary);
        }
      }),
      { numRuns: 100_000 },
    );
  });

  it('refuses a length over the limit before any body arrives, and one below 4', () => {
    const over = Buffer.from([0x51, 0, 1, 0, 1]);
    expect(io.frames([over], MAX)).toBe(-1);
    expect(io.frames([Buffer.from([0x51, 0, 0]), Buffer.from([0, 3])], MAX)).toBe(-2);
    const ok = io.frames([Buffer.from([0x53, 0, 0]), Buffer.from([0, 4])], MAX) as number[] & { atBoundary: boolean };
    expect([...ok]).toEqual([0x53, 4]);
    expect(ok.atBoundary).toBe(true);
  });
});

describe('loading', () => {
  it('says why when the addon is not there (and never throws)', () => {
    if (loaded.io === null) expect(loaded.reason).toMatch(/native addon/);
    else expect(typeof loaded.io.frames).toBe('function');
  });
});
