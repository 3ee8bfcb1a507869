import { describe, expect, it } from 'vitest';
import { Framer } from './framer.js';
import { ProtocolError } from './errors.js';
import { query, sync, startupMessage, sslRequest } from './encode/frontend.js';
import { readyForQuery, dataRow } from './encode/backend.js';
import { decodeQuery } from './decode/frontend.js';
import { decodeStartup } from './decode/startup.js';

function drain(f: Framer): Array<{ type: number; body: string }> {
  const out: Array<{ type: number; body: string }> = [];
  while (f.next()) out.push({ type: f.type, body: f.buffer.toString('latin1', f.bodyStart, f.end) });
  return out;
}

describe('Framer', () => {
  it('describes messages inside one chunk in place, without copying', () => {
    const chunk = Buffer.concat([query('select 1'), sync(), readyForQuery('I')]);
    const f = new Framer();
    f.push(chunk);
    expect(f.next()).toBe(true);
    expect(f.buffer).toBe(chunk);
    expect([f.type, f.start, f.bodyStart]).toEqual([0x51, 0, 5]);
    expect(decodeQuery(f.buffer, f.bodyStart, f.end)).toBe('select 1');
    expect(f.next()).toBe(true);
    expect(f.buffer).toBe(chunk);
    expect(f.type).toBe(0x53);
    expect(f.next()).toBe(true);
    expect(f.type).toBe(0x5a);
    expect(f.end).toBe(chunk.length);
    expect(f.next()).toBe(false);
    expect(f.pendingBytes()).toBe(0);
  });

  it('assembles a message split byte by byte', () => {
    const msgs = Buffer.concat([query('select 42'), dataRow(['a', null, 'ccc']), sync()]);
    const f = new Framer();
    const got: Array<{ type: number; body: string }> = [];
    for (let i = 0; i < msgs.length; i++) {
      f.push(msgs.subarray(i, i + 1));
      got.push(...drain(f));
    }
    expect(got.map((m) => m.type)).toEqual([0x51, 0x44, 0x53]);
    expect(got[0]!.body).toBe('select 42\0');
    expect(f.pendingBytes()).toBe(0);
  });

  it('keeps a partial tail referenced until more bytes arrive', () => {
    const m = query('select 1');
    const f = new Framer();
    f.push(m.subarray(0, 7));
    expect(f.next()).toBe(false);
    expect(f.pendingBytes()).toBe(7);
    f.push(m.subarray(7));
    expect(f.next()).toBe(true);
    expect(f.buffer).not.toBe(m);
    expect(f.buffer.equals(m)).toBe(true);
    expect(f.next()).toBe(false);
  });

  it('accepts several pushes before reading', () => {
    const a = query('a');
    const b = query('bb');
    const f = new Framer();
    f.push(a.subarray(0, 3));
    f.push(a.subarray(3));
    f.push(b);
    expect(drain(f).map((m) => m.body)).toEqual(['a\0', 'bb\0']);
  });

  it('rejects a length below 4 and above the maximum before allocating', () => {
    const f = new Framer(100);
    f.push(Buffer.from([0x51, 0, 0, 0, 3]));
    expect(() => f.next()).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_BAD_LENGTH' }));
    expect(() => f.next()).toThrow(ProtocolError);
    const g = new Framer(100);
    g.push(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    expect(() => g.next()).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_TOO_LARGE' }));
    const h = new Framer(100);
    h.push(Buffer.from([0x51, 0, 0]));
    h.push(Buffer.from([0, 101]));
    expect(() => h.next()).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_TOO_LARGE' }));
  });

  it('frames untyped startup packets, then typed messages', () => {
    const f = new Framer();
    const start = startupMessage({ user: 'u', database: 'd' });
    f.push(Buffer.concat([sslRequest(), start.subarray(0, 5)]));
    expect(f.nextUntyped()).toBe(true);
    expect(decodeStartup(f.buffer, f.start, f.end)).toEqual({ kind: 'ssl' });
    expect(f.nextUntyped()).toBe(false);
    f.push(Buffer.concat([start.subarray(5), query('x')]));
    expect(f.nextUntyped()).toBe(true);
    expect(f.type).toBe(0);
    const p = decodeStartup(f.buffer, f.start, f.end);
    expect(p.kind === 'startup' && { ...p.params }).toEqual({ user: 'u', database: 'd' });
    expect(f.next()).toBe(true);
    expect(f.type).toBe(0x51);
  });

  it('limits startup packets to 10000 bytes and at least 8', () => {
    const f = new Framer();
    f.push(Buffer.from([0, 0, 0x27, 0x11]));
    expect(() => f.nextUntyped()).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_TOO_LARGE' }));
    const g = new Framer();
    g.push(Buffer.from([0, 0, 0, 7]));
    expect(() => g.nextUntyped()).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_BAD_LENGTH' }));
  });

  it('sliceFrom gives a run of whole messages of one chunk', () => {
    const chunk = Buffer.concat([query('a'), query('b'), sync()]);
    const f = new Framer();
    f.push(chunk);
    f.next();
    const runStart = f.start;
    f.next();
    f.next();
    expect(f.sliceFrom(runStart).equals(chunk)).toBe(true);
  });
});
