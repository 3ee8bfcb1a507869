// fast-check arbitraries shared by the fuzz tests (test-only; excluded from the build).
import fc from 'fast-check';
import { expect } from 'vitest';
import * as P from '../index.js';

/** Any string without NUL (what a cstring can carry). */
export const text = fc.string({ unit: 'binary', maxLength: 24 }).map((s) => s.replace(/\0/g, ''));
const nonEmptyText = text.filter((s) => s !== '');
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const kind = fc.constantFrom<'S' | 'P'>('S', 'P');
const errorInfo = fc.record(
  {
    severity: fc.constantFrom('ERROR', 'FATAL', 'WARNING', 'NOTICE') as fc.Arbitrary<P.ErrorInfo['severity']>,
    code: fc.stringMatching(/^[0-9A-Z]{5}$/),
    message: text,
    detail: text,
    hint: text,
  },
  { requiredKeys: ['code', 'message'] },
);

/** A valid message from either direction, made by our encoders, or a well-framed message with a random body. */
export const validMessage: fc.Arbitrary<Buffer> = fc.oneof(
  text.map(P.query),
  fc.tuple(text, text, fc.array(uint32, { maxLength: 4 })).map(([n, q, t]) => P.parse(n, q, t)),
  fc
    .tuple(text, text, fc.array(fc.option(fc.oneof(text, bytes), { nil: null }), { maxLength: 4 }), fc.array(fc.constantFrom(0, 1), { maxLength: 3 }))
    .map(([p, s, v, rf]) => P.bind(p, s, v, { resultFormats: rf })),
  fc.tuple(kind, text).map(([k, n]) => P.describe(k, n)),
  fc.tuple(kind, text).map(([k, n]) => P.close(k, n)),
  fc.tuple(text, int32).map(([p, n]) => P.execute(p, n)),
  fc.constantFrom(P.sync(), P.flush(), P.terminate(), P.copyDone(), P.parseComplete(), P.bindComplete(), P.noData(), P.emptyQueryResponse(), P.closeComplete(), P.authenticationOk(), P.authenticationCleartext()),
  bytes.map(P.copyData),
  text.map(P.copyFail),
  text.map(P.passwordMessage),
  fc.tuple(text, bytes).map(([m, d]) => P.saslInitialResponse(m, d)),
  bytes.map(P.saslResponse),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((s) => P.authenticationMD5(Buffer.from(s))),
  fc.array(nonEmptyText, { maxLength: 3 }).map(P.authenticationSASL),
  bytes.map(P.authenticationSASLContinue),
  bytes.map(P.authenticationSASLFinal),
  fc.tuple(text, text).map(([n, v]) => P.parameterStatus(n, v)),
  fc.tuple(int32, int32).map(([a, b]) => P.backendKeyData(a, b)),
  fc.constantFrom<'I' | 'T' | 'E'>('I', 'T', 'E').map(P.readyForQuery),
  errorInfo.map(P.errorResponse),
  errorInfo.map(P.noticeResponse),
  fc.array(fc.record({ name: text, typeOid: uint32 }), { maxLength: 4 }).map(P.rowDescription),
  fc.array(fc.option(text, { nil: null }), { maxLength: 5 }).map(P.dataRow),
  text.map(P.commandComplete),
  fc.tuple(int32, text, text).map(([p, c, m]) => P.notificationResponse(p, c, m)),
  fc.tuple(fc.constantFrom(0, 1), fc.array(fc.constantFrom(0, 1), { maxLength: 4 })).map(([f, c]) => P.copyInResponse(f, c)),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 })).map(([t, body]) => {
    const m = Buffer.alloc(5 + body.length);
    m[0] = t;
    m.writeInt32BE(4 + body.length, 1);
    m.set(body, 5);
    return m;
  }),
);

/** A valid untyped (startup-phase) packet. */
export const validStartup: fc.Arbitrary<Buffer> = fc.oneof(
  fc.dictionary(nonEmptyText, text, { maxKeys: 4 }).map(P.startupMessage),
  fc.constantFrom(P.sslRequest(), P.gssencRequest()),
  fc.tuple(int32, int32).map(([a, b]) => P.cancelRequest(a, b)),
);

const INTERESTING = [-1, 0, 1, 3, 4, 5, 7, 8, 9, 255, 0xffff, 0x10000, 10_000, 10_001, 1 << 30, (1 << 30) + 1, 0x7fffffff, -0x80000000, 196608, 80877103];

/** A mutation: overwrite a byte, write an interesting int32, truncate, insert bytes, or delete a range. */
export const mutation = fc.oneof(
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('int32' as const), at: fc.nat(), v: fc.oneof(fc.constantFrom(...INTERESTING), int32) }),
  fc.record({ op: fc.constant('int16' as const), at: fc.nat(), v: fc.constantFrom(0, 1, 0x7fff, 0x8000, 0xffff) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), v: fc.constant(0) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), v: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), v: fc.integer({ min: 1, max: 8 }) }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

export function mutate(input: Buffer, muts: Mutation[]): Buffer {
  let buf = Buffer.from(input);
  for (const m of muts) {
    if (buf.length === 0) break;
    const at = m.at % buf.length;
    switch (m.op) {
      case 'byte':
        buf[at] = m.v;
        break;
      case 'int32':
        if (at + 4 <= buf.length) buf.writeInt32BE(m.v, at);
        break;
      case 'int16':
        if (at + 2 <= buf.length) buf.writeUInt16BE(m.v, at);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), m.v, buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.v)]);
        break;
    }
  }
  return buf;
}

/** Cuts `buf` at the given points (taken modulo its length). */
export function split(buf: Buffer, cuts: number[]): Buffer[] {
  if (buf.length === 0) return [];
  const points = [...new Set(cuts.map((c) => c % buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

export const cuts = fc.array(fc.nat(), { maxLength: 12 });

const CODES = new Set([
  'WEIR_E_PROTO_TOO_LARGE',
  'WEIR_E_PROTO_BAD_LENGTH',
  'WEIR_E_PROTO_MALFORMED',
  'WEIR_E_PROTO_UNSUPPORTED_VERSION',
  'WEIR_E_AUTH_FAILED',
  'WEIR_E_AUTH_UNSUPPORTED',
]);

/** Runs fn; a throw must be a coded ProtocolError. Returns the result or undefined. */
export function coded<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof P.ProtocolError) || !CODES.has(e.code)) {
      expect.fail(`not a coded ProtocolError: ${String(e)} ${(e as Error).stack ?? ''}`);
    }
    return undefined;
  }
}

/** Every decoder; for fuzzing, each is run on every body (client and server share type bytes). */
export const DECODERS: Array<[string, (b: Buffer, s: number, e: number) => unknown]> = [
  ['query', P.decodeQuery],
  ['parse', P.decodeParse],
  ['bind', P.decodeBind],
  ['describe', P.decodeDescribe],
  ['close', P.decodeClose],
  ['execute', P.decodeExecute],
  ['password', P.decodePassword],
  ['passwordText', P.decodePasswordText],
  ['saslInitial', P.decodeSASLInitialResponse],
  ['copyFail', P.decodeCopyFail],
  ['authentication', P.decodeAuthentication],
  ['errorFields', P.decodeErrorFields],
  ['parameterStatus', P.decodeParameterStatus],
  ['backendKeyData', P.decodeBackendKeyData],
  ['readyForQuery', P.decodeReadyForQuery],
  ['commandComplete', P.decodeCommandComplete],
  ['notification', P.decodeNotification],
  ['copyResponse', P.decodeCopyResponse],
  ['rowDescription', P.decodeRowDescription],
  ['dataRow', P.decodeDataRow],
];

/** Counts property runs, so a file can assert it ran the number it promises. */
export class RunCounter {
  n = 0;
  tick(): void {
    this.n++;
  }
}
