// Cross-check against node-postgres' own codec (pg-protocol, test-only):
// what pg sends, we decode; what we send as a server, pg parses.
import { describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser';
import * as P from './index.js';

function frame(buf: Buffer): Array<[number, Buffer, number, number]> {
  const f = new P.Framer();
  f.push(buf);
  const out: Array<[number, Buffer, number, number]> = [];
  while (f.next()) out.push([f.type, f.buffer, f.bodyStart, f.end]);
  expect(f.pendingBytes()).toBe(0);
  return out;
}

function pgParse(buf: Buffer): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  new Parser().parse(buf, (m: unknown) => out.push(m as Record<string, unknown>));
  return out;
}

describe('interop with pg-protocol', () => {
  it('decodes what node-postgres sends', () => {
    const s = serialize.startup({ user: 'u', database: 'd', client_encoding: 'UTF8' });
    const st = P.decodeStartup(s, 0, s.length);
    expect(st.kind === 'startup' && st.params['client_encoding']).toBe('UTF8');
    const stream = Buffer.concat([
      serialize.parse({ name: 'st', text: 'select $1::int', types: [23] }),
      serialize.bind({ portal: '', statement: 'st', values: ['1', null] }),
      serialize.describe({ type: 'P', name: '' }),
      serialize.execute({ portal: '', rows: 0 }),
      serialize.close({ type: 'S', name: 'st' }),
      serialize.sync(),
      serialize.query('select 1'),
      serialize.password('md5xyz'),
      serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abc'),
    ]);
    const ms = frame(stream);
    expect(ms.map((m) => String.fromCharCode(m[0])).join('')).toBe('PBDECSQpp');
    expect(P.decodeParse(...ms[0]!.slice(1) as [Buffer, number, number])).toEqual({ name: 'st', query: 'select $1::int', paramTypes: [23] });
    expect(P.decodeBind(...ms[1]!.slice(1) as [Buffer, number, number])).toMatchObject({ portal: '', statement: 'st' });
    expect(P.decodeDescribe(...ms[2]!.slice(1) as [Buffer, number, number])).toEqual({ kind: 'P', name: '' });
    expect(P.decodeClose(...ms[4]!.slice(1) as [Buffer, number, number])).toEqual({ kind: 'S', name: 'st' });
    expect(P.decodeQuery(...ms[6]!.slice(1) as [Buffer, number, number])).toBe('select 1');
    expect(P.decodePasswordText(...ms[7]!.slice(1) as [Buffer, number, number])).toBe('md5xyz');
    expect(P.decodeSASLInitialResponse(...ms[8]!.slice(1) as [Buffer, number, number]).data.toString()).toBe('n,,n=*,r=abc');
    expect(P.cancelRequest(7, 9)).toEqual(serialize.cancel(7, 9));
    expect(P.sslRequest()).toEqual(serialize.requestSsl());
  });

  it('node-postgres parses what we send as a server', () => {
    const msgs = pgParse(
      Buffer.concat([
        P.authenticationSASL(['SCRAM-SHA-256']),
        P.authenticationMD5(Buffer.from([9, 8, 7, 6])),
        P.authenticationOk(),
        P.parameterStatus('server_version', '17.0'),
        P.backendKeyData(11, 22),
        P.readyForQuery('I'),
        P.rowDescription([{ name: 'a' }, { name: 'b', typeOid: 23, typeSize: 4 }]),
        P.dataRow(['x', null]),
        P.commandComplete('SELECT 1'),
        P.errorResponse({ code: '28P01', message: 'nope', detail: 'dd', severity: 'FATAL' }),
        P.noticeResponse({ code: '01000', message: 'careful', severity: 'WARNING' }),
        P.parseComplete(),
        P.bindComplete(),
        P.noData(),
        P.emptyQueryResponse(),
        P.closeComplete(),
        P.notificationResponse(5, 'ch', 'hello'),
        P.copyInResponse(0, [0]),
        P.readyForQuery('T'),
      ]),
    );
    expect(msgs.map((m) => m['name'])).toEqual([
      'authenticationSASL',
      'authenticationMD5Password',
      'authenticationOk',
      'parameterStatus',
      'backendKeyData',
      'readyForQuery',
      'rowDescription',
      'dataRow',
      'commandComplete',
      'error',
      'notice',
      'parseComplete',
      'bindComplete',
      'noData',
      'emptyQuery',
      'closeComplete',
      'notification',
      'copyInResponse',
      'readyForQuery',
    ]);
    expect(msgs[0]).toMatchObject({ mechanisms: ['SCRAM-SHA-256'] });
    expect(msgs[4]).toMatchObject({ processID: 11, secretKey: 22 });
    expect(msgs[7]).toMatchObject({ fields: ['x', null] });
    expect(msgs[9]).toMatchObject({ code: '28P01', message: 'nope', detail: 'dd', severity: 'FATAL' });
    expect(msgs[18]).toMatchObject({ status: 'T' });
  });
});
