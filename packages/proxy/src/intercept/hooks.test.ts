import { ClientError, WeirError } from '@weir/kernel';
import { describe, expect, it } from 'vitest';
import { MessageHooks, messageHookFailed } from './hooks.js';

const P = 'P'.charCodeAt(0);

describe('messageHookFailed', () => {
  it("a plugin's ClientError reaches the client as it is", () => {
    const e = messageHookFailed(new ClientError('WEIR_E_PS_CLIENT_LIMIT', '54000', 'too many statements'), 'ps', P);
    expect(e).toMatchObject({ code: 'WEIR_E_MESSAGE_HOOK_FAILED', details: { plugin: 'ps', sqlstate: '54000', clientMessage: 'too many statements' } });
  });

  it('a protocol error is the client\'s (08P01); anything else, including an untyped details.sqlstate, is a plugin bug (XX000)', () => {
    expect(messageHookFailed(new WeirError('WEIR_E_PROTO_MALFORMED', 'bad Parse'), 'ps', P).details)
      .toMatchObject({ sqlstate: '08P01', clientMessage: 'invalid message from client: bad Parse' });
    expect(messageHookFailed(new WeirError('WEIR_E_X', 'x', { sqlstate: '54000' }), 'ps', P).details)
      .toMatchObject({ sqlstate: 'XX000', clientMessage: 'internal error in plugin ps' });
    expect(messageHookFailed(new Error('boom'), 'ps', P).details).toMatchObject({ sqlstate: 'XX000' });
  });
});

describe('MessageHooks.clientMask', () => {
  it('has a bit for each client message type with a handler, and follows registrations', () => {
    const hooks = new MessageHooks();
    expect(hooks.clientMask().equals(Buffer.alloc(32))).toBe(true);
    const off = hooks.onClient(P, () => false, 'ps');
    const mask = hooks.clientMask();
    for (let t = 0; t < 256; t++) expect(((mask[t >> 3] >> (t & 7)) & 1) === 1, `type ${t}`).toBe(t === P);
    off();
    expect(hooks.clientMask().equals(Buffer.alloc(32))).toBe(true);
  });
});
