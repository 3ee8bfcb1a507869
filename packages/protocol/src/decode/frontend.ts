// Decoders for messages a client sends. Each takes (buf, bodyStart, end).
import { malformed } from '../errors.js';
import { Reader } from './reader.js';

/** Query: the SQL text. */
export function decodeQuery(buf: Buffer, bodyStart: number, end: number): string {
  const r = new Reader(buf, bodyStart, end);
  const sql = r.cstr('Query');
  r.done('Query');
  return sql;
}

export interface ParseMessage {
  name: string;
  query: string;
  paramTypes: number[];
}

export function decodeParse(buf: Buffer, bodyStart: number, end: number): ParseMessage {
  const r = new Reader(buf, bodyStart, end);
  const name = r.cstr('Parse statement name');
  const query = r.cstr('Parse query');
  const n = r.u16('Parse parameter count');
  if (r.remaining() !== n * 4) throw malformed(`Parse: ${n} parameter types do not fit the body`);
  const paramTypes = new Array<number>(n);
  for (let i = 0; i < n; i++) paramTypes[i] = r.u32();
  return { name, query, paramTypes };
}

export interface BindMessage {
  portal: string;
  statement: string;
  /** Offset of the statement name's first byte. */
  statementStart: number;
  /** Offset one past the statement name's NUL terminator (where the parameter format codes start). */
  statementEnd: number;
}

/**
 * Bind: portal and statement names, and where the statement name sits so it
 * can be rewritten (see renameBindStatement). The rest of the body is
 * validated for bounds but not decoded.
 */
export function decodeBind(buf: Buffer, bodyStart: number, end: number): BindMessage {
  const r = new Reader(buf, bodyStart, end);
  const portal = r.cstr('Bind portal');
  const statementStart = r.pos;
  const statement = r.cstr('Bind statement');
  const statementEnd = r.pos;
  r.skip(r.u16('Bind format count') * 2, 'Bind parameter formats');
  const nParams = r.u16('Bind parameter count');
  for (let i = 0; i < nParams; i++) {
    const len = r.i32('Bind parameter length');
    if (len < -1) throw malformed(`Bind: parameter length ${len}`);
    if (len > 0) r.skip(len, 'Bind parameter');
  }
  r.skip(r.u16('Bind result format count') * 2, 'Bind result formats');
  r.done('Bind');
  return { portal, statement, statementStart, statementEnd };
}

export interface DescribeOrClose {
  kind: 'S' | 'P';
  name: string;
}

function kindAndName(what: string, buf: Buffer, bodyStart: number, end: number): DescribeOrClose {
  const r = new Reader(buf, bodyStart, end);
  const k = r.u8(what);
  if (k !== 0x53 && k !== 0x50) throw malformed(`${what}: kind must be 'S' or 'P'`);
  const name = r.cstr(`${what} name`);
  r.done(what);
  return { kind: k === 0x53 ? 'S' : 'P', name };
}

export function decodeDescribe(buf: Buffer, bodyStart: number, end: number): DescribeOrClose {
  return kindAndName('Describe', buf, bodyStart, end);
}

export function decodeClose(buf: Buffer, bodyStart: number, end: number): DescribeOrClose {
  return kindAndName('Close', buf, bodyStart, end);
}

export function decodeExecute(buf: Buffer, bodyStart: number, end: number): { portal: string; maxRows: number } {
  const r = new Reader(buf, bodyStart, end);
  const portal = r.cstr('Execute portal');
  const maxRows = r.i32('Execute max rows');
  r.done('Execute');
  return { portal, maxRows };
}

/** PasswordMessage / SASLResponse: a copy of the raw body (password string with its NUL, or SASL data). */
export function decodePassword(buf: Buffer, bodyStart: number, end: number): Buffer {
  const r = new Reader(buf, bodyStart, end);
  return r.copy(end - bodyStart, 'Password');
}

/** PasswordMessage as text (cleartext or "md5…" response), NUL terminator checked. */
export function decodePasswordText(buf: Buffer, bodyStart: number, end: number): string {
  const r = new Reader(buf, bodyStart, end);
  const s = r.cstr('PasswordMessage');
  r.done('PasswordMessage');
  return s;
}

export function decodeSASLInitialResponse(buf: Buffer, bodyStart: number, end: number): { mechanism: string; data: Buffer } {
  const r = new Reader(buf, bodyStart, end);
  const mechanism = r.cstr('SASLInitialResponse mechanism');
  const len = r.i32('SASLInitialResponse length');
  const data = len === -1 ? Buffer.alloc(0) : r.copy(len, 'SASLInitialResponse data');
  r.done('SASLInitialResponse');
  return { mechanism, data };
}

/** CopyFail: the client's error message. */
export function decodeCopyFail(buf: Buffer, bodyStart: number, end: number): string {
  const r = new Reader(buf, bodyStart, end);
  const s = r.cstr('CopyFail');
  r.done('CopyFail');
  return s;
}
