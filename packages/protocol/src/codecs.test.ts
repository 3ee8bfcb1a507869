import { describe, expect, it } from 'vitest';
import * as P from './index.js';

/** Frames a single whole message and returns (buf, bodyStart, end). */
function one(msg: Buffer): [Buffer, number, number] {
  const f = new P.Framer();
  f.push(msg);
  expect(f.next()).toBe(true);
  expect(f.end).toBe(msg.length);
  return [f.buffer, f.bodyStart, f.end];
}

describe('client → server codecs', () => {
  it('Query', () => {
    expect(P.decodeQuery(...one(P.query('select $1 — ü')))).toBe('select $1 — ü');
  });
  it('Parse', () => {
    expect(P.decodeParse(...one(P.parse('s1', 'select $1, $2', [23, 4294967295])))).toEqual({
      name: 's1',
      query: 'select $1, $2',
      paramTypes: [23, 4294967295],
    });
    expect(P.decodeParse(...one(P.parse('', 'select 1')))).toEqual({ name: '', query: 'select 1', paramTypes: [] });
  });
  it('Parse counts are uint16 on the wire: 65535 types round-trip, 65536 is refused', () => {
    const max = new Array<number>(65535).fill(23);
    expect(P.decodeParse(...one(P.parse('s', 'q', max))).paramTypes).toHaveLength(65535);
    expect(() => P.parse('s', 'q', [...max, 23])).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_TOO_LARGE' }));
  });
  it('Bind, and renaming its statement', () => {
    const m = P.bind('p', 'stmt', ['1', null, Buffer.from([0, 1])], { paramFormats: [0, 0, 1], resultFormats: [1] });
    const d = P.decodeBind(...one(m));
    expect(d).toMatchObject({ portal: 'p', statement: 'stmt' });
    expect(m.toString('latin1', d.statementStart, d.statementEnd)).toBe('stmt\0');
    const renamed = P.renameBindStatement(m, 0, m.length, d, 'weir_1');
    const e = P.decodeBind(...one(renamed));
    expect(e).toMatchObject({ portal: 'p', statement: 'weir_1' });
    expect(renamed.subarray(e.statementEnd).equals(m.subarray(d.statementEnd))).toBe(true);
  });
  it('Describe, Close, Execute', () => {
    expect(P.decodeDescribe(...one(P.describe('S', 'x')))).toEqual({ kind: 'S', name: 'x' });
    expect(P.decodeClose(...one(P.close('P', '')))).toEqual({ kind: 'P', name: '' });
    expect(P.decodeExecute(...one(P.execute('', 10)))).toEqual({ portal: '', maxRows: 10 });
  });
  it('Password, SASL', () => {
    expect(P.decodePasswordText(...one(P.passwordMessage('md5abc')))).toBe('md5abc');
    expect(P.decodePassword(...one(P.passwordMessage('x'))).toString('latin1')).toBe('x\0');
    expect(P.decodeSASLInitialResponse(...one(P.saslInitialResponse('SCRAM-SHA-256', 'n,,n=*,r=abc')))).toEqual({
      mechanism: 'SCRAM-SHA-256',
      data: Buffer.from('n,,n=*,r=abc'),
    });
    expect(P.decodePassword(...one(P.saslResponse('c=biws'))).toString()).toBe('c=biws');
  });
  it('bodiless and COPY messages', () => {
    for (const [m, t] of [
      [P.sync(), P.Msg.Sync],
      [P.flush(), P.Msg.Flush],
      [P.terminate(), P.Msg.Terminate],
      [P.copyDone(), P.Msg.CopyDone],
    ] as const) {
      expect(m).toEqual(Buffer.from([t, 0, 0, 0, 4]));
    }
    expect(P.copyData('a\tb\n')).toEqual(Buffer.from('d\0\0\0\x08a\tb\n', 'latin1'));
    expect(P.decodeCopyFail(...one(P.copyFail('nope')))).toBe('nope');
  });
  it('startup packets', () => {
    const s = P.startupMessage({ user: 'alice', database: 'db', application_name: 'app' });
    const d = P.decodeStartup(s, 0, s.length);
    expect(d).toMatchObject({ kind: 'startup', major: 3, minor: 0 });
    expect(d.kind === 'startup' && { ...d.params }).toEqual({ user: 'alice', database: 'db', application_name: 'app' });
    expect(P.decodeStartup(P.sslRequest(), 0, 8)).toEqual({ kind: 'ssl' });
    expect(P.decodeStartup(P.gssencRequest(), 0, 8)).toEqual({ kind: 'gssenc' });
    const c = P.cancelRequest(1234, -5);
    expect(P.decodeStartup(c, 0, c.length)).toEqual({ kind: 'cancel', pid: 1234, secret: -5 });
    const v2 = Buffer.from([0, 0, 0, 9, 0, 2, 0, 0, 0]);
    expect(() => P.decodeStartup(v2, 0, 9)).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_UNSUPPORTED_VERSION' }));
    const proto = P.startupMessage(JSON.parse('{"__proto__":"x","user":"u"}') as Record<string, string>);
    const q = P.decodeStartup(proto, 0, proto.length);
    expect(q.kind === 'startup' && Object.keys(q.params)).toEqual(['__proto__', 'user']);
  });
});

describe('server → client codecs', () => {
  it('Authentication', () => {
    expect(P.decodeAuthentication(...one(P.authenticationOk()))).toEqual({ code: 0 });
    expect(P.decodeAuthentication(...one(P.authenticationCleartext()))).toEqual({ code: 3 });
    const salt = Buffer.from([1, 2, 3, 4]);
    expect(P.decodeAuthentication(...one(P.authenticationMD5(salt)))).toEqual({ code: 5, salt });
    expect(P.decodeAuthentication(...one(P.authenticationSASL(['SCRAM-SHA-256'])))).toEqual({ code: 10, mechanisms: ['SCRAM-SHA-256'] });
    expect(P.decodeAuthentication(...one(P.authenticationSASLContinue('r=x')))).toEqual({ code: 11, data: Buffer.from('r=x') });
    expect(P.decodeAuthentication(...one(P.authenticationSASLFinal(Buffer.from('v=y'))))).toEqual({ code: 12, data: Buffer.from('v=y') });
  });
  it('ParameterStatus, BackendKeyData, ReadyForQuery', () => {
    expect(P.decodeParameterStatus(...one(P.parameterStatus('TimeZone', 'UTC')))).toEqual({ name: 'TimeZone', value: 'UTC' });
    expect(P.decodeBackendKeyData(...one(P.backendKeyData(42, -1)))).toEqual({ pid: 42, secret: -1 });
    for (const s of ['I', 'T', 'E'] as const) {
      const [b, start, end] = one(P.readyForQuery(s));
      expect(P.isReadyForQuery(b[0]!)).toBe(true);
      expect(P.readyStatus(b, start)).toBe(s.charCodeAt(0));
      expect(P.decodeReadyForQuery(b, start, end)).toBe(s.charCodeAt(0));
    }
    expect(P.readyForQuery('I')).toBe(P.READY_IDLE);
  });
  it('ErrorResponse and NoticeResponse with SQLSTATE', () => {
    const e = P.errorResponse({ severity: 'FATAL', code: '28P01', message: 'password authentication failed', hint: 'h' });
    expect(e[0]).toBe(P.Msg.ErrorResponse);
    expect(P.decodeErrorFields(...one(e))).toEqual({
      severity: 'FATAL',
      severityNonLocalized: 'FATAL',
      code: '28P01',
      message: 'password authentication failed',
      hint: 'h',
    });
    const n = P.noticeResponse({ code: '00000', message: 'hi', detail: 'd' });
    expect(n[0]).toBe(P.Msg.NoticeResponse);
    expect(P.decodeErrorFields(...one(n))).toMatchObject({ severity: 'NOTICE', message: 'hi', detail: 'd' });
  });
  it('rows, tags and the rest', () => {
    const rd = P.decodeRowDescription(...one(P.rowDescription([{ name: 'database' }, { name: 'n', typeOid: 20, typeSize: 8 }])));
    expect(rd.map((c) => [c.name, c.typeOid, c.typeSize])).toEqual([
      ['database', 25, -1],
      ['n', 20, 8],
    ]);
    expect(P.decodeDataRow(...one(P.dataRow(['a', null, '']))).map((v) => v)).toEqual(['a', null, '']);
    expect(P.decodeCommandComplete(...one(P.commandComplete('SHOW')))).toBe('SHOW');
    expect(P.decodeNotification(...one(P.notificationResponse(7, 'ch', 'pay')))).toEqual({ pid: 7, channel: 'ch', payload: 'pay' });
    expect(P.decodeCopyResponse(...one(P.copyInResponse(0, [0, 0])))).toEqual({ format: 0, columnFormats: [0, 0] });
    for (const m of [P.emptyQueryResponse(), P.parseComplete(), P.bindComplete(), P.closeComplete(), P.noData()]) {
      expect(m.readInt32BE(1)).toBe(4);
    }
  });
  it('encoders refuse strings with NUL', () => {
    expect(() => P.query('a\0b')).toThrow(expect.objectContaining({ code: 'WEIR_E_PROTO_MALFORMED' }));
  });
});

describe('decoders reject malformed bodies with coded errors', () => {
  const cases: Array<[string, () => unknown]> = [
    ['query without NUL', () => P.decodeQuery(Buffer.from('abc'), 0, 3)],
    ['query with trailing bytes', () => P.decodeQuery(Buffer.from('a\0b'), 0, 3)],
    ['NUL beyond end', () => P.decodeQuery(Buffer.from('ab\0'), 0, 2)],
    ['parse count beyond body', () => P.decodeParse(Buffer.from([0, 0, 0xff, 0xff, 0, 0, 0, 1]), 0, 8)],
    ['bind param length beyond body', () => P.decodeBind(Buffer.from([0, 0, 0, 0, 0, 1, 0x7f, 0, 0, 0]), 0, 10)],
    ['bind negative length', () => P.decodeBind(Buffer.from([0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0]), 0, 12)],
    ['describe bad kind', () => P.decodeDescribe(Buffer.from('X\0'), 0, 2)],
    ['md5 short salt', () => P.decodeAuthentication(Buffer.from([0, 0, 0, 5, 1, 2]), 0, 6)],
    ['sasl list unterminated', () => P.decodeAuthentication(Buffer.from([0, 0, 0, 10, 0x41]), 0, 5)],
    ['error fields unterminated', () => P.decodeErrorFields(Buffer.from('SERROR\0'), 0, 7)],
    ['backend key short', () => P.decodeBackendKeyData(Buffer.alloc(7), 0, 7)],
    ['sasl initial length beyond body', () => P.decodeSASLInitialResponse(Buffer.from([0x41, 0, 0x7f, 0xff, 0xff, 0xff]), 0, 6)],
    ['data row count beyond body', () => P.decodeDataRow(Buffer.from([0xff, 0xff, 0, 0]), 0, 4)],
    ['row description count beyond body', () => P.decodeRowDescription(Buffer.from([0xff, 0xff]), 0, 2)],
    ['startup length mismatch', () => P.decodeStartup(Buffer.from([0, 0, 0, 9, 0, 3, 0, 0]), 0, 8)],
    ['startup params unterminated', () => P.decodeStartup(Buffer.from([0, 0, 0, 10, 0, 3, 0, 0, 0x75, 0]), 0, 10)],
    ['cancel too short', () => P.decodeStartup(Buffer.from([0, 0, 0, 12, 4, 0xd2, 0x16, 0x2e, 0, 0, 0, 1]), 0, 12)],
    ['ready bad status', () => P.decodeReadyForQuery(Buffer.from('X'), 0, 1)],
  ];
  for (const [name, fn] of cases) {
    it(name, () => {
      expect(fn).toThrow(P.ProtocolError);
      try {
        fn();
      } catch (e) {
        expect((e as P.ProtocolError).code).toMatch(/^WEIR_E_PROTO_/);
      }
    });
  }
});
