import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from '../codes.js';
import { ProtocolError, malformed } from '../errors.js';
import { Reader } from './reader.js';

export type StartupPacket =
  | { kind: 'startup'; major: 3; minor: number; params: Record<string, string> }
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number };

const SSL: StartupPacket = Object.freeze({ kind: 'ssl' });
const GSSENC: StartupPacket = Object.freeze({ kind: 'gssenc' });

/**
 * Decodes an untyped startup-phase packet; `start` is the offset of its
 * length. Params land in a null-prototype object. A protocol major version
 * other than 3 → WEIR_E_PROTO_UNSUPPORTED_VERSION.
 */
export function decodeStartup(buf: Buffer, start: number, end: number): StartupPacket {
  const r = new Reader(buf, start, end);
  const len = r.i32('startup length');
  if (len !== end - start) throw malformed(`startup length ${len} does not match the packet size ${end - start}`);
  const code = r.i32('startup code');
  if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
    r.done('SSLRequest');
    return code === SSL_REQUEST_CODE ? SSL : GSSENC;
  }
  if (code === CANCEL_REQUEST_CODE) {
    const pid = r.i32('CancelRequest pid');
    const secret = r.i32('CancelRequest key');
    r.done('CancelRequest');
    return { kind: 'cancel', pid, secret };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    throw new ProtocolError('WEIR_E_PROTO_UNSUPPORTED_VERSION', `unsupported frontend protocol ${major}.${minor}`);
  }
  const params: Record<string, string> = Object.create(null);
  for (;;) {
    const name = r.cstr('startup parameter name');
    if (name === '') break;
    params[name] = r.cstr(`startup parameter "${name}"`);
  }
  r.done('StartupMessage');
  return { kind: 'startup', major: 3, minor, params };
}
