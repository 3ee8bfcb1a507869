// Decoders for messages a server sends. Each takes (buf, bodyStart, end).
import { AuthCode } from '../codes.js';
import { malformed } from '../errors.js';
import { Reader } from './reader.js';

export interface AuthenticationMessage {
  /** 0 ok, 3 cleartext, 5 md5, 10 SASL, 11 SASL continue, 12 SASL final; others as sent. */
  code: number;
  /** MD5 salt (code 5). */
  salt?: Buffer;
  /** SASL mechanisms offered (code 10). */
  mechanisms?: string[];
  /** SASL data (codes 11, 12) or the opaque payload of other codes. */
  data?: Buffer;
}

export function decodeAuthentication(buf: Buffer, bodyStart: number, end: number): AuthenticationMessage {
  const r = new Reader(buf, bodyStart, end);
  const code = r.i32('Authentication code');
  switch (code) {
    case AuthCode.Ok:
    case AuthCode.CleartextPassword:
      r.done('Authentication');
      return { code };
    case AuthCode.MD5Password: {
      const salt = r.copy(4, 'AuthenticationMD5Password salt');
      r.done('AuthenticationMD5Password');
      return { code, salt };
    }
    case AuthCode.SASL: {
      const mechanisms: string[] = [];
      for (;;) {
        const m = r.cstr('AuthenticationSASL mechanism');
        if (m === '') break;
        mechanisms.push(m);
      }
      r.done('AuthenticationSASL');
      return { code, mechanisms };
    }
    default:
      return { code, data: r.copy(r.remaining()) };
  }
}

/** Fields of ErrorResponse / NoticeResponse, by name. */
export interface ErrorFields {
  severity: string;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  [field: string]: string | undefined;
}

const FIELD_NAMES: Record<number, string> = {
  0x53: 'severity', // S
  0x56: 'severityNonLocalized', // V
  0x43: 'code', // C
  0x4d: 'message', // M
  0x44: 'detail', // D
  0x48: 'hint', // H
  0x50: 'position', // P
  0x70: 'internalPosition', // p
  0x71: 'internalQuery', // q
  0x57: 'where', // W
  0x73: 'schema', // s
  0x74: 'table', // t
  0x63: 'column', // c
  0x64: 'dataType', // d
  0x6e: 'constraint', // n
  0x46: 'file', // F
  0x4c: 'line', // L
  0x52: 'routine', // R
};

/** ErrorResponse / NoticeResponse fields; unknown field types are kept under their one-letter code. */
export function decodeErrorFields(buf: Buffer, bodyStart: number, end: number): ErrorFields {
  const r = new Reader(buf, bodyStart, end);
  const out: ErrorFields = { severity: '', code: '', message: '' };
  for (;;) {
    const t = r.u8('error field type');
    if (t === 0) break;
    const v = r.cstr('error field');
    out[FIELD_NAMES[t] ?? String.fromCharCode(t)] = v;
  }
  r.done('ErrorResponse');
  return out;
}

export function decodeParameterStatus(buf: Buffer, bodyStart: number, end: number): { name: string; value: string } {
  const r = new Reader(buf, bodyStart, end);
  const name = r.cstr('ParameterStatus name');
  const value = r.cstr('ParameterStatus value');
  r.done('ParameterStatus');
  return { name, value };
}

export function decodeBackendKeyData(buf: Buffer, bodyStart: number, end: number): { pid: number; secret: number } {
  const r = new Reader(buf, bodyStart, end);
  const pid = r.i32('BackendKeyData pid');
  const secret = r.i32('BackendKeyData key');
  r.done('BackendKeyData');
  return { pid, secret };
}

/** ReadyForQuery: the status byte ('I', 'T' or 'E' as a number), validated. */
export function decodeReadyForQuery(buf: Buffer, bodyStart: number, end: number): number {
  const r = new Reader(buf, bodyStart, end);
  const s = r.u8('ReadyForQuery status');
  r.done('ReadyForQuery');
  if (s !== 0x49 && s !== 0x54 && s !== 0x45) throw malformed(`ReadyForQuery: unknown status ${s}`);
  return s;
}

/** CommandComplete: the command tag ("SELECT 1", "INSERT 0 5", …). */
export function decodeCommandComplete(buf: Buffer, bodyStart: number, end: number): string {
  const r = new Reader(buf, bodyStart, end);
  const tag = r.cstr('CommandComplete');
  r.done('CommandComplete');
  return tag;
}

/** NotificationResponse (LISTEN/NOTIFY). */
export function decodeNotification(buf: Buffer, bodyStart: number, end: number): { pid: number; channel: string; payload: string } {
  const r = new Reader(buf, bodyStart, end);
  const pid = r.i32('NotificationResponse pid');
  const channel = r.cstr('NotificationResponse channel');
  const payload = r.cstr('NotificationResponse payload');
  r.done('NotificationResponse');
  return { pid, channel, payload };
}

/** CopyInResponse / CopyOutResponse / CopyBothResponse: overall format and per-column formats. */
export function decodeCopyResponse(buf: Buffer, bodyStart: number, end: number): { format: number; columnFormats: number[] } {
  const r = new Reader(buf, bodyStart, end);
  const format = r.u8('Copy format');
  const n = r.u16('Copy column count');
  if (r.remaining() !== n * 2) throw malformed(`CopyResponse: ${n} column formats do not fit the body`);
  const columnFormats = new Array<number>(n);
  for (let i = 0; i < n; i++) columnFormats[i] = r.i16();
  return { format, columnFormats };
}

export interface ColumnDescription {
  name: string;
  tableOid: number;
  columnAttr: number;
  typeOid: number;
  typeSize: number;
  typeModifier: number;
  format: number;
}

export function decodeRowDescription(buf: Buffer, bodyStart: number, end: number): ColumnDescription[] {
  const r = new Reader(buf, bodyStart, end);
  const n = r.u16('RowDescription count');
  // each column takes at least 19 bytes: bound the allocation by the body
  if (n * 19 > r.remaining()) throw malformed(`RowDescription: ${n} columns do not fit the body`);
  const cols = new Array<ColumnDescription>(n);
  for (let i = 0; i < n; i++) {
    cols[i] = {
      name: r.cstr('RowDescription name'),
      tableOid: r.u32('RowDescription table'),
      columnAttr: r.i16('RowDescription attnum'),
      typeOid: r.u32('RowDescription type'),
      typeSize: r.i16('RowDescription type size'),
      typeModifier: r.i32('RowDescription typmod'),
      format: r.i16('RowDescription format'),
    };
  }
  r.done('RowDescription');
  return cols;
}

/** DataRow as text values (null for SQL NULL). */
export function decodeDataRow(buf: Buffer, bodyStart: number, end: number): Array<string | null> {
  const r = new Reader(buf, bodyStart, end);
  const n = r.u16('DataRow count');
  if (n * 4 > r.remaining()) throw malformed(`DataRow: ${n} values do not fit the body`);
  const out = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const len = r.i32('DataRow value length');
    if (len === -1) {
      out[i] = null;
      continue;
    }
    if (len < 0) throw malformed(`DataRow: value length ${len}`);
    const at = r.pos;
    r.skip(len, 'DataRow value');
    out[i] = buf.toString('utf8', at, at + len);
  }
  r.done('DataRow');
  return out;
}
