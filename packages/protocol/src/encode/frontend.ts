// Encoders for messages a client sends (proxy → server). Each returns the whole message.
import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, Msg, PROTOCOL_V3, SSL_REQUEST_CODE } from '../codes.js';
import { Writer, cstrLen, dataLen } from '../writer.js';

// Shared constant messages: never write into them.
export const SYNC = Writer.typed(Msg.Sync, 0).done();
export const FLUSH = Writer.typed(Msg.Flush, 0).done();
export const TERMINATE = Writer.typed(Msg.Terminate, 0).done();
export const COPY_DONE = Writer.typed(Msg.CopyDone, 0).done();
export const SSL_REQUEST = Writer.untyped(4).i32(SSL_REQUEST_CODE).done();
export const GSSENC_REQUEST = Writer.untyped(4).i32(GSSENC_REQUEST_CODE).done();

/** StartupMessage, protocol 3.0. */
export function startupMessage(params: Record<string, string>): Buffer {
  let len = 5;
  for (const k of Object.keys(params)) len += cstrLen(k) + cstrLen(params[k]!);
  const w = Writer.untyped(len).i32(PROTOCOL_V3);
  for (const k of Object.keys(params)) w.cstr(k).cstr(params[k]!);
  return w.u8(0).done();
}
export function sslRequest(): Buffer {
  return SSL_REQUEST;
}
export function gssencRequest(): Buffer {
  return GSSENC_REQUEST;
}
export function cancelRequest(pid: number, secret: number): Buffer {
  return Writer.untyped(12).i32(CANCEL_REQUEST_CODE).i32(pid).i32(secret).done();
}

export function passwordMessage(text: string): Buffer {
  return Writer.typed(Msg.Password, cstrLen(text)).cstr(text).done();
}
export function saslInitialResponse(mechanism: string, data: Buffer | string): Buffer {
  const n = dataLen(data);
  return Writer.typed(Msg.Password, cstrLen(mechanism) + 4 + n).cstr(mechanism).i32(n).data(data).done();
}
export function saslResponse(data: Buffer | string): Buffer {
  return Writer.typed(Msg.Password, dataLen(data)).data(data).done();
}

export function query(sql: string): Buffer {
  return Writer.typed(Msg.Query, cstrLen(sql)).cstr(sql).done();
}
export function parse(name: string, sql: string, paramTypes: number[] = []): Buffer {
  const w = Writer.typed(Msg.Parse, cstrLen(name) + cstrLen(sql) + 2 + 4 * paramTypes.length);
  w.cstr(name).cstr(sql).u16(paramTypes.length);
  for (const t of paramTypes) w.u32(t);
  return w.done();
}

export interface BindOptions {
  /** Per-parameter format codes (0 text, 1 binary); default: none (all text). */
  paramFormats?: number[];
  /** Result column format codes; default: none (all text). */
  resultFormats?: number[];
}

/** Bind; values are sent as given (strings as UTF-8), null is SQL NULL. */
export function bind(portal: string, statement: string, values: Array<string | Buffer | null> = [], opts: BindOptions = {}): Buffer {
  const pf = opts.paramFormats ?? [];
  const rf = opts.resultFormats ?? [];
  let len = cstrLen(portal) + cstrLen(statement) + 2 + 2 * pf.length + 2 + 2 + 2 * rf.length;
  for (const v of values) len += 4 + (v === null ? 0 : dataLen(v));
  const w = Writer.typed(Msg.Bind, len).cstr(portal).cstr(statement).u16(pf.length);
  for (const f of pf) w.i16(f);
  w.u16(values.length);
  for (const v of values) {
    if (v === null) w.i32(-1);
    else w.i32(dataLen(v)).data(v);
  }
  w.u16(rf.length);
  for (const f of rf) w.i16(f);
  return w.done();
}

/**
 * A copy of the Bind message at [start, end) of `buf` with its statement name
 * replaced; `statementStart`/`statementEnd` come from decodeBind.
 */
export function renameBindStatement(
  buf: Buffer,
  start: number,
  end: number,
  at: { statementStart: number; statementEnd: number },
  name: string,
): Buffer {
  const head = at.statementStart - start;
  const tail = end - at.statementEnd;
  const w = Writer.typed(Msg.Bind, head - 5 + cstrLen(name) + tail);
  w.data(buf.subarray(start + 5, at.statementStart)).cstr(name).data(buf.subarray(at.statementEnd, end));
  return w.done();
}

export function describe(kind: 'S' | 'P', name: string): Buffer {
  return Writer.typed(Msg.Describe, 1 + cstrLen(name)).u8(kind.charCodeAt(0)).cstr(name).done();
}
export function execute(portal = '', maxRows = 0): Buffer {
  return Writer.typed(Msg.Execute, cstrLen(portal) + 4).cstr(portal).i32(maxRows).done();
}
export function close(kind: 'S' | 'P', name: string): Buffer {
  return Writer.typed(Msg.Close, 1 + cstrLen(name)).u8(kind.charCodeAt(0)).cstr(name).done();
}
export function sync(): Buffer {
  return SYNC;
}
export function flush(): Buffer {
  return FLUSH;
}
export function terminate(): Buffer {
  return TERMINATE;
}

/** CopyData (either direction). */
export function copyData(data: Buffer | string): Buffer {
  return Writer.typed(Msg.CopyData, dataLen(data)).data(data).done();
}
/** CopyDone (either direction). */
export function copyDone(): Buffer {
  return COPY_DONE;
}
export function copyFail(message: string): Buffer {
  return Writer.typed(Msg.CopyFail, cstrLen(message)).cstr(message).done();
}
