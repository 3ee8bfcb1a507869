/**
 * Frontend message builders for the proxy fuzz suite: valid messages of every kind a client sends
 * after login, plus body mutations. Self-contained (no @weir/protocol) so that a codec bug cannot
 * hide itself by shaping the input.
 */

/** type byte + int32 length + body. `length` overrides the length field (a lie). */
export function msg(type: string | number, body: Buffer, length = 4 + body.length): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b[0] = typeof type === 'number' ? type : type.charCodeAt(0);
  b.writeInt32BE(length, 1);
  body.copy(b, 5);
  return b;
}

export const cstr = (s: string) => Buffer.from(`${s}\0`);
export const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };
export const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n | 0); return b; };
const values = (vs: (Buffer | null)[]) => Buffer.concat(vs.flatMap((v) => (v === null ? [i32(-1)] : [i32(v.length), v])));

export const query = (sql: string) => msg('Q', cstr(sql));
export const parse = (name: string, sql: string, types: number[] = []) =>
  msg('P', Buffer.concat([cstr(name), cstr(sql), i16(types.length), ...types.map(i32)]));
export const bind = (portal: string, stmt: string, formats: number[], vals: (Buffer | null)[], resultFormats: number[] = []) =>
  msg('B', Buffer.concat([cstr(portal), cstr(stmt), i16(formats.length), ...formats.map(i16), i16(vals.length), values(vals),
    i16(resultFormats.length), ...resultFormats.map(i16)]));
export const describe = (kind: 'S' | 'P', name: string) => msg('D', Buffer.concat([Buffer.from(kind), cstr(name)]));
export const close = (kind: 'S' | 'P', name: string) => msg('C', Buffer.concat([Buffer.from(kind), cstr(name)]));
export const execute = (portal: string, maxRows: number) => msg('E', Buffer.concat([cstr(portal), i32(maxRows)]));
export const sync = () => msg('S', Buffer.alloc(0));
export const flush = () => msg('H', Buffer.alloc(0));
export const terminate = () => msg('X', Buffer.alloc(0));
export const copyData = (b: Buffer) => msg('d', b);
export const copyDone = () => msg('c', Buffer.alloc(0));
export const copyFail = (why: string) => msg('f', cstr(why));
export const functionCall = (oid: number, formats: number[], args: (Buffer | null)[], resultFormat: number) =>
  msg('F', Buffer.concat([i32(oid), i16(formats.length), ...formats.map(i16), i16(args.length), values(args), i16(resultFormat)]));

/** A Parse that declares `n` parameter types (all int4), every one present: 40,000 is well-formed. */
export const parseManyTypes = (name: string, n: number) =>
  msg('P', Buffer.concat([cstr(name), cstr('select $1::int'), i16(n), Buffer.alloc(4 * n, Buffer.from([0, 0, 0, 23]))]));
/** A Bind that declares `n` parameters (int4 text values). */
export const bindManyValues = (stmt: string, n: number) =>
  bind('', stmt, [], Array.from({ length: n }, () => Buffer.from('1')));

export type Mutation =
  | { op: 'byte'; at: number; v: number }
  | { op: 'int32'; at: number; v: number }
  | { op: 'int16'; at: number; v: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; v: Uint8Array }
  | { op: 'delete'; at: number; n: number }
  | { op: 'dropNuls' };

/**
 * Mutates the body only (offset 5 on), then rewrites the length to match, so the frame stays
 * well-formed and the body is what is hostile; `keepLength` leaves the old length in place (a lie).
 */
export function mutateBody(m: Buffer, muts: Mutation[], keepLength: boolean): Buffer {
  let body = Buffer.from(m.subarray(5));
  for (const x of muts) {
    if (x.op === 'dropNuls') { body = Buffer.from(body.filter((c) => c !== 0)); continue; }
    if (body.length === 0) break;
    const at = x.at % body.length;
    if (x.op === 'byte') body[at] = x.v;
    else if (x.op === 'int32') { if (at + 4 <= body.length) body.writeInt32BE(x.v | 0, at); }
    else if (x.op === 'int16') { if (at + 2 <= body.length) body.writeUInt16BE(x.v & 0xffff, at); }
    else if (x.op === 'truncate') body = body.subarray(0, at);
    else if (x.op === 'insert') body = Buffer.concat([body.subarray(0, at), x.v, body.subarray(at)]);
    else body = Buffer.concat([body.subarray(0, at), body.subarray(at + x.n)]);
  }
  return msg(m[0]!, body, keepLength ? m.readInt32BE(1) : 4 + body.length);
}

/** Cuts `buf` at the given offsets (modulo its length) into consecutive pieces. */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  if (buf.length === 0) return [];
  const points = [...new Set(cuts.map((c) => c % buf.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) { out.push(buf.subarray(prev, p)); prev = p; }
  out.push(buf.subarray(prev));
  return out;
}
