import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Framer } from './framer.js';
import { DECODERS, coded, cuts, mutate, mutation, split, validMessage, validStartup } from './testing/arbitraries.js';
import { decodeStartup } from './decode/startup.js';

// Record the largest allocation made through Buffer.allocUnsafe (what the framer uses for spanning messages).
const realAllocUnsafe = Buffer.allocUnsafe;
let largestAlloc = 0;
beforeAll(() => {
  Buffer.allocUnsafe = ((size: number) => {
    if (size > largestAlloc) largestAlloc = size;
    return realAllocUnsafe(size);
  }) as typeof Buffer.allocUnsafe;
});
afterAll(() => {
  Buffer.allocUnsafe = realAllocUnsafe;
});

let runs = 0;
const FRAMING = new Set(['WEIR_E_PROTO_TOO_LARGE', 'WEIR_E_PROTO_BAD_LENGTH']);

/** Feeds chunks, reading after each push (or only at the end); checks every message; returns [type, body] pairs. */
function frameAll(chunks: Buffer[], max: number, drainEach: boolean, untypedFirst = 0): Array<[number, string]> {
  const f = new Framer(max);
  const out: Array<[number, string]> = [];
  let untyped = untypedFirst;
  const drain = () => {
    for (;;) {
      const ok = untyped > 0 ? f.nextUntyped() : f.next();
      if (!ok) return;
      const len = f.buffer.readInt32BE(f.bodyStart - 4);
      expect(f.end - f.bodyStart).toBe(len - 4);
      expect(f.end).toBeLessThanOrEqual(f.buffer.length);
      if (untyped > 0) {
        untyped--;
        expect(f.start).toBe(f.bodyStart - 4);
        expect(len).toBeLessThanOrEqual(f.maxStartupLength);
      } else {
        expect(f.type).toBe(f.buffer[f.start]);
        expect(f.start).toBe(f.bodyStart - 5);
        expect(len).toBeLessThanOrEqual(max);
      }
      out.push([f.type, f.buffer.toString('latin1', f.bodyStart, f.end)]);
    }
  };
  for (const c of chunks) {
    f.push(c);
    if (drainEach) drain();
  }
  drain();
  return out;
}

describe('Framer under fast-check', () => {
  it('any split of a stream of valid messages yields the same messages', () => {
    fc.assert(
      fc.property(fc.array(validMessage, { maxLength: 20 }), cuts, fc.boolean(), (msgs, cutAt, drainEach) => {
        runs++;
        const stream = Buffer.concat(msgs);
        const got = frameAll(split(stream, cutAt), 1 << 20, drainEach);
        expect(got).toEqual(msgs.map((m) => [m[0], m.toString('latin1', 5)]));
      }),
      { numRuns: 3_000 },
    );
  });

  it('a startup packet followed by typed messages frames the same under any split', () => {
    fc.assert(
      fc.property(validStartup, fc.array(validMessage, { maxLength: 6 }), cuts, (start, msgs, cutAt) => {
        runs++;
        const got = frameAll(split(Buffer.concat([start, ...msgs]), cutAt), 1 << 20, true, 1);
        expect(got).toEqual([[0, start.toString('latin1', 4)], ...msgs.map((m) => [m[0], m.toString('latin1', 5)])]);
        expect(coded(() => decodeStartup(start, 0, start.length))).toBeDefined();
      }),
      { numRuns: 2_000 },
    );
  });

  it('messages inside one chunk are described in place (no copy)', () => {
    fc.assert(
      fc.property(fc.array(validMessage, { minLength: 1, maxLength: 10 }), (msgs) => {
        runs++;
        const chunk = Buffer.concat(msgs);
        const f = new Framer();
        f.push(chunk);
        while (f.next()) expect(f.buffer).toBe(chunk);
        expect(f.pendingBytes()).toBe(0);
      }),
      { numRuns: 1_000 },
    );
  });

  it('random bytes: only coded framing errors, no allocation beyond the maximum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cuts, fc.integer({ min: 4, max: 1 << 16 }), (bytes, cutAt, max) => {
        runs++;
        const chunks = split(Buffer.from(bytes), cutAt);
        largestAlloc = 0;
        try {
          frameAll(chunks, max, true);
        } catch (e) {
          expect(FRAMING.has((e as { code?: string }).code ?? '')).toBe(true);
        }
        expect(largestAlloc).toBeLessThanOrEqual(max + 1);
      }),
      { numRuns: 30_000 },
    );
  });

  it('mutated streams: framing errors are coded, every framed body decodes or fails with a coded error', () => {
    fc.assert(
      fc.property(
        fc.array(validMessage, { minLength: 1, maxLength: 6 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        cuts,
        fc.integer({ min: 4, max: 1 << 12 }),
        (msgs, muts, cutAt, max) => {
          runs++;
          const chunks = split(mutate(Buffer.concat(msgs), muts), cutAt);
          largestAlloc = 0;
          const f = new Framer(max);
          try {
            for (const c of chunks) {
              f.push(c);
              while (f.next()) {
                for (const [, decode] of DECODERS) coded(() => decode(f.buffer, f.bodyStart, f.end));
              }
            }
          } catch (e) {
            expect(FRAMING.has((e as { code?: string }).code ?? '')).toBe(true);
          }
          expect(largestAlloc).toBeLessThanOrEqual(max + 1);
        },
      ),
      { numRuns: 12_000 },
    );
  });

  it('startup phase: random and mutated packets give a coded error or a valid packet', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.tuple(validStartup, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([s, m]) => mutate(s, m)),
    );
    fc.assert(
      fc.property(input, cuts, (bytes, cutAt) => {
        runs++;
        const chunks = split(bytes, cutAt);
        largestAlloc = 0;
        const f = new Framer();
        try {
          for (const c of chunks) {
            f.push(c);
            while (f.nextUntyped()) {
              const p = coded(() => decodeStartup(f.buffer, f.start, f.end));
              if (p !== undefined) expect(['startup', 'ssl', 'gssenc', 'cancel']).toContain(p.kind);
            }
          }
        } catch (e) {
          expect(FRAMING.has((e as { code?: string }).code ?? '')).toBe(true);
        }
        expect(largestAlloc).toBeLessThanOrEqual(f.maxStartupLength);
      }),
      { numRuns: 10_000 },
    );
  });

  it('takePending hands back exactly the bytes not yet returned, under any split', () => {
    fc.assert(
      fc.property(fc.array(validMessage, { maxLength: 8 }), cuts, fc.nat(), (msgs, cutAt, stopAfter) => {
        runs++;
        const stream = Buffer.concat(msgs);
        const f = new Framer();
        const seen: Buffer[] = [];
        let taken: Buffer | null = null;
        outer: for (const c of split(stream, cutAt)) {
          f.push(c);
          while (f.next()) {
            seen.push(Buffer.from(f.buffer.subarray(f.start, f.end)));
            if (seen.length === stopAfter % (msgs.length + 1)) {
              taken = f.takePending();
              break outer;
            }
          }
        }
        if (taken === null) taken = f.takePending();
        const consumed = Buffer.concat(seen);
        expect(Buffer.concat([consumed, taken ?? Buffer.alloc(0)]).equals(stream.subarray(0, consumed.length + (taken?.length ?? 0)))).toBe(true);
        expect(f.pendingBytes()).toBe(0);
        expect(f.next()).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('ran at least 55,000 inputs', () => {
    expect(runs).toBeGreaterThanOrEqual(55_000);
  });
});
