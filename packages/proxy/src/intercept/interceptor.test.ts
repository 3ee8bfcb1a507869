/**
 * The framed path: server answers cut at any byte must reach the client exactly once and in
 * order while hidden answers and plugin replies come and go, and the plan must stay in step with
 * the server's skip-to-Sync and error rules.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Msg, parse, bind, execute, sync, query, describe as describeMsg,
  PARSE_COMPLETE, BIND_COMPLETE, dataRow, commandComplete, readyForQuery, errorResponse, rowDescription,
} from '@weir/protocol';
import { Answer, MessageHooks, type InterceptContext } from './hooks.js';
import { Interceptor } from './interceptor.js';

function setup(install: (hooks: MessageHooks) => void = () => {}) {
  const hooks = new MessageHooks();
  install(hooks);
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  const ic = new Interceptor(1, 'app@db', hooks, 1 << 20);
  ic.attach({ toServer: (b) => void toServer.push(Buffer.from(b)), toClient: (b) => void toClient.push(Buffer.from(b)) }, 7);
  return { ic, toServer, toClient, client: () => Buffer.concat(toClient), server: () => Buffer.concat(toServer) };
}

/** Parse of statement "hit" is answered by the proxy; Describe S "hidden" gets a hidden Parse first. */
function plugin(hooks: MessageHooks, log: string[] = []) {
  hooks.onClient(Msg.Parse, (ctx: InterceptContext, m) => {
    if (m.buffer.toString('latin1', m.bodyStart, m.bodyStart + 3) !== 'hit') return false;
    ctx.reply(PARSE_COMPLETE, (skipped) => void log.push(`reply:${skipped}`));
    return true;
  });
  hooks.onClient(Msg.Describe, (ctx: InterceptContext, m) => {
    ctx.send(parse('hidden', 'SELECT 1'), Answer.Hide, (failed, skipped) => void log.push(`hidden:${failed}:${skipped}`));
    ctx.send(Buffer.from(m.buffer.subarray(m.start, m.end)));
    return true;
  });
  hooks.onClient(Msg.Query, (ctx: InterceptContext, m) => {
    ctx.send(Buffer.from(m.buffer.subarray(m.start, m.end)), Answer.Forward, (failed) => void log.push(`query:${failed}`));
    return true;
  });
}

function cut(b: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  for (const a of [...at].sort((x, y) => x - y)) {
    if (a > p && a < b.length) {
      out.push(b.subarray(p, a));
      p = a;
    }
  }
  out.push(b.subarray(p));
  return out;
}

describe('Interceptor', () => {
  it('a big row cut in half on the plain path, then a reply queued: the client gets every byte once', () => {
    const { ic, client } = setup(plugin);
    ic.clientChunk(Buffer.concat([bind('', 's'), execute(), sync()]));
    const row = dataRow(['x'.repeat(1000)]);
    const answer = Buffer.concat([BIND_COMPLETE, row, commandComplete('SELECT 1'), readyForQuery('I'), PARSE_COMPLETE, readyForQuery('I')]);
    ic.serverChunk(answer.subarray(0, 500)); // plain path: passes on half of the row
    ic.clientChunk(Buffer.concat([parse('hit', 'SELECT 1'), parse('srv', 'SELECT 2'), sync()])); // a reply, then a forwarded Parse
    ic.serverChunk(answer.subarray(500));
    const want = Buffer.concat([BIND_COMPLETE, row, commandComplete('SELECT 1'), readyForQuery('I'), PARSE_COMPLETE, PARSE_COMPLETE, readyForQuery('I')]);
    expect(client().equals(want)).toBe(true);
    expect(ic.idle()).toBe(true);
  });

  it('a message held back while answers were hidden is not lost when the plain path takes over', () => {
    const { ic, client } = setup(plugin);
    ic.clientChunk(Buffer.concat([describeMsg('S', 'x'), sync()])); // hidden Parse, then Describe
    const desc = rowDescription([{ name: 'a' }]);
    const answer = Buffer.concat([PARSE_COMPLETE, Buffer.from([0x74, 0, 0, 0, 6, 0, 0]), desc, readyForQuery('I')]);
    ic.serverChunk(answer.subarray(0, 8)); // hidden ParseComplete + 3 bytes of ParameterDescription
    ic.serverChunk(answer.subarray(8, 20)); // plan has nothing special any more
    ic.serverChunk(answer.subarray(20));
    expect(client().equals(answer.subarray(5))).toBe(true);
  });

  it('any cutting of the answers gives the client the same bytes', () => {
    fc.assert(fc.property(fc.array(fc.nat(400), { maxLength: 12 }), fc.array(fc.nat(200), { maxLength: 6 }), (serverCuts, clientCuts) => {
      const { ic, client } = setup(plugin);
      const req = Buffer.concat([bind('', 's'), execute(), sync(), describeMsg('S', 'y'), parse('hit', 'x'), bind('', 'hit'), execute(), sync()]);
      const answer = Buffer.concat([
        BIND_COMPLETE, dataRow(['a'.repeat(150)]), commandComplete('SELECT 1'), readyForQuery('I'),
        PARSE_COMPLETE, Buffer.from([0x74, 0, 0, 0, 6, 0, 0]), rowDescription([{ name: 'b' }]),
        BIND_COMPLETE, dataRow(['c'.repeat(100)]), commandComplete('SELECT 1'), readyForQuery('I'),
      ]);
      // the client's messages arrive in pieces; the server answers only what it has been sent
      const pieces = cut(req, clientCuts);
      const firstGroup = bind('', 's').length + execute().length + sync().length;
      const firstAnswer = BIND_COMPLETE.length + dataRow(['a'.repeat(150)]).length + commandComplete('SELECT 1').length + 6;
      const answerPieces = cut(answer, [...serverCuts, firstAnswer]);
      let sent = 0;
      let given = 0;
      let answered = 0;
      for (const p of pieces) {
        ic.clientChunk(p);
        sent += p.length;
        // the answer to the first run, once it is all sent; the rest once everything is
        while (sent >= firstGroup && given < answerPieces.length && answered < firstAnswer) {
          answered += answerPieces[given].length;
          ic.serverChunk(answerPieces[given++]);
        }
      }
      while (given < answerPieces.length) ic.serverChunk(answerPieces[given++]);
      const want = Buffer.concat([
        BIND_COMPLETE, dataRow(['a'.repeat(150)]), commandComplete('SELECT 1'), readyForQuery('I'),
        Buffer.from([0x74, 0, 0, 0, 6, 0, 0]), rowDescription([{ name: 'b' }]), PARSE_COMPLETE,
        BIND_COMPLETE, dataRow(['c'.repeat(100)]), commandComplete('SELECT 1'), readyForQuery('I'),
      ]);
      expect(client().toString('hex')).toBe(want.toString('hex'));
      expect(ic.idle()).toBe(true);
    }), { numRuns: 500 });
  });

  it('an error before the client has sent its Sync: what follows is skipped, the plan ends with the Sync', () => {
    const log: string[] = [];
    const { ic, client } = setup((h) => plugin(h, log));
    ic.clientChunk(bind('', 'nope'));
    const err = errorResponse({ code: '26000', message: 'prepared statement "nope" does not exist' });
    ic.serverChunk(err);
    ic.clientChunk(Buffer.concat([describeMsg('S', 'z'), parse('hit', 'x'), execute(), sync()]));
    ic.serverChunk(readyForQuery('I'));
    expect(client().equals(Buffer.concat([err, readyForQuery('I')]))).toBe(true);
    expect(log).toEqual(['hidden:true:true', 'reply:true']); // pushed after the error: told at once, in order
    expect(ic.idle()).toBe(true);
    // and the next run is in step again
    ic.clientChunk(Buffer.concat([parse('hit', 'x'), sync()]));
    ic.serverChunk(readyForQuery('I'));
    expect(client().subarray(err.length + 6).equals(Buffer.concat([PARSE_COMPLETE, readyForQuery('I')]))).toBe(true);
  });

  it('an error at Sync (a failed commit) does not eat the next run of messages', () => {
    const log: string[] = [];
    const { ic, client } = setup((h) => plugin(h, log));
    ic.clientChunk(Buffer.concat([bind('', 's'), execute(), sync(), parse('hit', 'x'), describeMsg('S', 'hit'), sync()]));
    const err = errorResponse({ code: '23505', message: 'deferred constraint' });
    const desc = rowDescription([{ name: 'a' }]);
    ic.serverChunk(Buffer.concat([BIND_COMPLETE, commandComplete('INSERT 0 1'), err, readyForQuery('I')]));
    ic.serverChunk(Buffer.concat([PARSE_COMPLETE, desc, readyForQuery('I')]));
    expect(client().equals(Buffer.concat([BIND_COMPLETE, commandComplete('INSERT 0 1'), err, readyForQuery('I'), PARSE_COMPLETE, desc, readyForQuery('I')]))).toBe(true);
    expect(log).toEqual(['reply:false', 'hidden:false:false']);
    expect(ic.idle()).toBe(true);
  });

  it('a simple query answered by an error is reported failed; the transaction status is tracked', () => {
    const log: string[] = [];
    const { ic } = setup((h) => plugin(h, log));
    expect(ic.txStatus).toBe(0x49);
    ic.clientChunk(Buffer.concat([query('BEGIN'), query('oops'), query('SELECT 1')]));
    ic.serverChunk(Buffer.concat([commandComplete('BEGIN'), readyForQuery('T')]));
    expect(ic.txStatus).toBe(0x54);
    ic.serverChunk(Buffer.concat([errorResponse({ code: '42601', message: 'syntax' }), readyForQuery('E')]));
    expect(ic.txStatus).toBe(0x45);
    ic.serverChunk(Buffer.concat([errorResponse({ code: '25P02', message: 'aborted' }), readyForQuery('E')]));
    expect(log).toEqual(['query:false', 'query:true', 'query:true']);
    ic.detach();
    ic.attach({ toServer: () => {}, toClient: () => {} }, 8);
    expect(ic.txStatus).toBe(0x49);
  });
});
