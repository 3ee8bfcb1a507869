import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Scanner, interestTable, NOTIFY, BODY, SKIP, type ScanSink } from './scanner.js';

function message(type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b[0] = type;
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
}

const INTEREST = interestTable({ 0x5a: BODY, 0x53: BODY, 0x51: NOTIFY, 0x44: SKIP });

function collect(chunks: Buffer[]): { events: Array<[number, string]>; boundary: boolean } {
  const events: Array<[number, string]> = [];
  const sink: ScanSink = {
    onMessage(type, body, start, end) {
      events.push([type, INTEREST[type] === BODY ? body.subarray(start, end).toString('hex') : '']);
    },
  };
  const s = new Scanner(INTEREST, sink, 1 << 20);
  for (const c of chunks) s.scan(c);
  return { events, boundary: s.atBoundary() };
}

const msgArb = fc.record({
  type: fc.constantFrom(0x5a, 0x53, 0x51, 0x44, 0x43),
  body: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
});

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('Scanner', () => {
  it('reports the same messages however the stream is split', () => {
    fc.assert(fc.property(fc.array(msgArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (msgs, cuts) => {
      const stream = Buffer.concat(msgs.map((m) => message(m.type, m.body)));
      const whole = collect([stream]);
      const pieces = collect(split(stream, cuts));
      expect(pieces.events).toEqual(whole.events);
      expect(pieces.boundary).toBe(true);
      const expected = msgs.filter((m) => INTEREST[m.type] !== SKIP)
        .map((m) => [m.type, INTEREST[m.type] === BODY ? m.body.toString('hex') : ''] as [number, string]);
      expect(whole.events).toEqual(expected);
    }), { numRuns: 500 });
  });

  it('is not at a boundary in the middle of a message', () => {
    const m = message(0x51, Buffer.from('select 1\0'));
    expect(collect([m.subarray(0, 3)]).boundary).toBe(false);
    expect(collect([m.subarray(0, 7)]).boundary).toBe(false);
    expect(collect([m]).boundary).toBe(true);
  });

  it('rejects lengths below 4 and above the maximum with a coded error', () => {
    const sink: ScanSink = { onMessage() {} };
    const bad = Buffer.from([0x51, 0, 0, 0, 2]);
    expect(() => new Scanner(INTEREST, sink, 100).scan(bad)).toThrow(/out of bounds/);
    const big = Buffer.from([0x51, 0, 0, 1, 0]);
    try {
      new Scanner(INTEREST, sink, 100).scan(big);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('WEIR_E_PROTO_BAD_LENGTH');
    }
  });
});

describe('Scanner: a lying length', () => {
  const sink: ScanSink = { onMessage() {} };
  it('a header split over chunks whose length is out of bounds throws, and the scanner is never at a boundary again', () => {
    const s = new Scanner(INTEREST, sink, 1 << 20);
    s.scan(Buffer.from([0x51, 0, 0, 0]));
    expect(s.atBoundary()).toBe(false);
    expect(() => s.scan(Buffer.from([2]))).toThrow(/out of bounds/);
    expect(s.atBoundary()).toBe(false);
  });
  it('a whole header in one chunk with a huge length throws the same way', () => {
    const s = new Scanner(INTEREST, sink, 1 << 20);
    s.scan(message(0x51, Buffer.from('x')));
    expect(s.atBoundary()).toBe(true);
    const head = Buffer.from([0x64, 0x7f, 0xff, 0xff, 0xff]);
    expect(() => s.scan(head)).toThrow(/out of bounds/);
    expect(s.atBoundary()).toBe(false);
    expect(() => s.scan(message(0x51, Buffer.from('y')))).toThrow(/after a framing error/);
  });
});
