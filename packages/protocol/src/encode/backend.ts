// Encoders for messages a server sends (proxy → client). Each returns the whole message.
import { AuthCode, Msg } from '../codes.js';
import { ProtocolError } from '../errors.js';
import { Writer, cstrLen, dataLen } from '../writer.js';

function bodiless(type: number): Buffer {
  return Writer.typed(type, 0).done();
}
function auth(code: number): Buffer {
  return Writer.typed(Msg.Authentication, 4).i32(code).done();
}
function ready(status: number): Buffer {
  return Writer.typed(Msg.ReadyForQuery, 1).u8(status).done();
}

// Shared constant messages: never write into them.
export const AUTH_OK = auth(AuthCode.Ok);
export const AUTH_CLEARTEXT = auth(AuthCode.CleartextPassword);
export const READY_IDLE = ready(0x49);
export const READY_IN_TRANSACTION = ready(0x54);
export const READY_FAILED = ready(0x45);
export const PARSE_COMPLETE = bodiless(Msg.ParseComplete);
export const BIND_COMPLETE = bodiless(Msg.BindComplete);
export const CLOSE_COMPLETE = bodiless(Msg.CloseComplete);
export const NO_DATA = bodiless(Msg.NoData);
export const EMPTY_QUERY_RESPONSE = bodiless(Msg.EmptyQueryResponse);
export const PORTAL_SUSPENDED = bodiless(Msg.PortalSuspended);
/** Single-byte answers to SSLRequest / GSSENCRequest (not framed messages). */
export const SSL_ACCEPT = Buffer.from('S');
export const SSL_REFUSE = Buffer.from('N');

export function authenticationOk(): Buffer {
  return AUTH_OK;
}
export function authenticationCleartext(): Buffer {
  return AUTH_CLEARTEXT;
}
export function authenticationMD5(salt: Buffer): Buffer {
  if (salt.length !== 4) throw new ProtocolError('WEIR_E_PROTO_MALFORMED', 'md5 salt must be 4 bytes');
  return Writer.typed(Msg.Authentication, 8).i32(AuthCode.MD5Password).data(salt).done();
}
export function authenticationSASL(mechanisms: string[]): Buffer {
  let len = 5;
  for (const m of mechanisms) len += cstrLen(m);
  const w = Writer.typed(Msg.Authentication, len).i32(AuthCode.SASL);
  for (const m of mechanisms) w.cstr(m);
  return w.u8(0).done();
}
export function authenticationSASLContinue(data: Buffer | string): Buffer {
  return Writer.typed(Msg.Authentication, 4 + dataLen(data)).i32(AuthCode.SASLContinue).data(data).done();
}
export function authenticationSASLFinal(data: Buffer | string): Buffer {
  return Writer.typed(Msg.Authentication, 4 + dataLen(data)).i32(AuthCode.SASLFinal).data(data).done();
}

export function parameterStatus(name: string, value: string): Buffer {
  return Writer.typed(Msg.ParameterStatus, cstrLen(name) + cstrLen(value)).cstr(name).cstr(value).done();
}
export function backendKeyData(pid: number, secret: number): Buffer {
  return Writer.typed(Msg.BackendKeyData, 8).i32(pid).i32(secret).done();
}
export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  return status === 'I' ? READY_IDLE : status === 'T' ? READY_IN_TRANSACTION : READY_FAILED;
}

/** NegotiateProtocolVersion: the newest minor version we support, and the `_pq_.` options we did not recognise. */
export function negotiateProtocolVersion(minor: number, unrecognized: string[] = []): Buffer {
  let len = 8;
  for (const o of unrecognized) len += cstrLen(o);
  const w = Writer.typed(Msg.NegotiateProtocolVersion, len).i32((3 << 16) | minor).i32(unrecognized.length);
  for (const o of unrecognized) w.cstr(o);
  return w.done();
}

export interface ErrorInfo {
  severity?: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function fields(type: number, e: ErrorInfo, severity: string): Buffer {
  const entries: Array<[number, string]> = [
    [0x53, severity], // S
    [0x56, severity], // V
    [0x43, e.code], // C
    [0x4d, e.message], // M
  ];
  if (e.detail !== undefined) entries.push([0x44, e.detail]);
  if (e.hint !== undefined) entries.push([0x48, e.hint]);
  let len = 1;
  for (const [, v] of entries) len += 1 + cstrLen(v);
  const w = Writer.typed(type, len);
  for (const [t, v] of entries) w.u8(t).cstr(v);
  return w.u8(0).done();
}

export function errorResponse(e: ErrorInfo): Buffer {
  return fields(Msg.ErrorResponse, e, e.severity ?? 'ERROR');
}
export function noticeResponse(e: ErrorInfo): Buffer {
  return fields(Msg.NoticeResponse, e, e.severity ?? 'NOTICE');
}

/** RowDescription for text-format result columns (admin console). typeOid defaults to text (25). */
export function rowDescription(columns: Array<{ name: string; typeOid?: number; typeSize?: number }>): Buffer {
  let len = 2;
  for (const c of columns) len += cstrLen(c.name) + 18;
  const w = Writer.typed(Msg.RowDescription, len).i16(columns.length);
  for (const c of columns) {
    w.cstr(c.name).u32(0).i16(0).u32(c.typeOid ?? 25).i16(c.typeSize ?? -1).i32(-1).i16(0);
  }
  return w.done();
}

export function dataRow(values: Array<string | null>): Buffer {
  let len = 2;
  for (const v of values) len += 4 + (v === null ? 0 : Buffer.byteLength(v, 'utf8'));
  const w = Writer.typed(Msg.DataRow, len).i16(values.length);
  for (const v of values) {
    if (v === null) w.i32(-1);
    else w.i32(Buffer.byteLength(v, 'utf8')).data(v);
  }
  return w.done();
}

export function commandComplete(tag: string): Buffer {
  return Writer.typed(Msg.CommandComplete, cstrLen(tag)).cstr(tag).done();
}
export function emptyQueryResponse(): Buffer {
  return EMPTY_QUERY_RESPONSE;
}
export function parseComplete(): Buffer {
  return PARSE_COMPLETE;
}
export function bindComplete(): Buffer {
  return BIND_COMPLETE;
}
export function closeComplete(): Buffer {
  return CLOSE_COMPLETE;
}
export function noData(): Buffer {
  return NO_DATA;
}
export function notificationResponse(pid: number, channel: string, payload: string): Buffer {
  return Writer.typed(Msg.NotificationResponse, 4 + cstrLen(channel) + cstrLen(payload)).i32(pid).cstr(channel).cstr(payload).done();
}

function copyResponse(type: number, format: number, columnFormats: number[]): Buffer {
  const w = Writer.typed(type, 3 + 2 * columnFormats.length).u8(format).i16(columnFormats.length);
  for (const f of columnFormats) w.i16(f);
  return w.done();
}
export function copyInResponse(format: number, columnFormats: number[]): Buffer {
  return copyResponse(Msg.CopyInResponse, format, columnFormats);
}
export function copyOutResponse(format: number, columnFormats: number[]): Buffer {
  return copyResponse(Msg.CopyOutResponse, format, columnFormats);
}
