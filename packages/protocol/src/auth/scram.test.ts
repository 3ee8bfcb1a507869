import { describe, expect, it } from 'vitest';
import { ScramClient } from './scram-client.js';
import { ScramServer } from './scram-server.js';
import { makeScramVerifier, mockScramKeys, parseScramVerifier } from './scram-common.js';
import { saslprep } from './saslprep.js';

// RFC 7677, section 3
const RFC = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const rfcVerifier = makeScramVerifier(RFC.password, { salt: Buffer.from(RFC.salt, 'base64'), iterations: 4096 });
const b = (s: string) => Buffer.from(s);
const code = (c: string) => expect.objectContaining({ code: c });

function login(server: ScramServer, client: ScramClient) {
  const serverFirst = server.handleClientFirst(b(client.clientFirst()));
  const final = server.handleClientFinal(b(client.handleServerFirst(b(serverFirst))));
  if (final.ok) client.verifyServerFinal(b(final.serverFinal!));
  return final;
}

describe('SCRAM-SHA-256', () => {
  it('client side reproduces the RFC 7677 exchange', () => {
    const c = new ScramClient(RFC.user, { password: RFC.password }, { nonce: RFC.clientNonce, sendUser: true });
    expect(c.clientFirst()).toBe(RFC.clientFirst);
    expect(c.handleServerFirst(b(RFC.serverFirst))).toBe(RFC.clientFinal);
    expect(() => c.verifyServerFinal(b(RFC.serverFinal))).not.toThrow();
  });

  it('server side reproduces the RFC 7677 exchange and recovers the ClientKey', () => {
    const s = new ScramServer({ verifier: rfcVerifier }, { nonce: RFC.serverNonce });
    expect(s.handleClientFirst(b(RFC.clientFirst))).toBe(RFC.serverFirst);
    const r = s.handleClientFinal(b(RFC.clientFinal));
    expect(r.ok).toBe(true);
    expect(r.serverFinal).toBe(RFC.serverFinal);
    expect(r.clientKey).toHaveLength(32);
  });

  it('client rejects a wrong server signature or a server error', () => {
    const c = new ScramClient(RFC.user, { password: RFC.password }, { nonce: RFC.clientNonce, sendUser: true });
    c.clientFirst();
    c.handleServerFirst(b(RFC.serverFirst));
    expect(() => c.verifyServerFinal(b('v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).toThrow(code('WEIR_E_AUTH_FAILED'));
    const d = new ScramClient('u', { password: 'x' });
    const n = d.clientFirst().slice('n,,n=*,r='.length);
    d.handleServerFirst(b(`r=${n}abc,s=${RFC.salt},i=4096`));
    expect(() => d.verifyServerFinal(b('e=invalid-proof'))).toThrow(code('WEIR_E_AUTH_FAILED'));
  });

  it('round trip with a password, a verifier and a plaintext secret', () => {
    const v = makeScramVerifier('sécret', { iterations: 64 });
    expect(login(new ScramServer({ verifier: v }), new ScramClient('u', { password: 'sécret' })).ok).toBe(true);
    expect(login(new ScramServer({ password: 'p4ss' }), new ScramClient('u', { password: 'p4ss' })).ok).toBe(true);
    expect(login(new ScramServer({ verifier: v }), new ScramClient('u', { password: 'wrong' }))).toEqual({ ok: false });
  });

  it('passthrough: the ClientKey recovered by the proxy logs in to the server', () => {
    // PostgreSQL holds `verifier`; the proxy's config holds the same verifier, no password.
    const verifier = makeScramVerifier('hunter2', { iterations: 128 });
    const keys = parseScramVerifier(verifier)!;
    const fromClient = login(new ScramServer({ verifier }), new ScramClient('app', { password: 'hunter2' }));
    expect(fromClient.ok).toBe(true);
    const toServer = login(
      new ScramServer({ verifier }), // stands in for PostgreSQL
      new ScramClient('app', { clientKey: fromClient.clientKey!, serverKey: keys.serverKey }),
    );
    expect(toServer.ok).toBe(true);
    // a wrong ServerKey is caught when the server signs
    const bad = new ScramClient('app', { clientKey: fromClient.clientKey!, serverKey: Buffer.alloc(32) });
    const server = new ScramServer({ verifier });
    const final = server.handleClientFinal(b(bad.handleServerFirst(b(server.handleClientFirst(b(bad.clientFirst()))))));
    expect(final.ok).toBe(true);
    expect(() => bad.verifyServerFinal(b(final.serverFinal!))).toThrow(code('WEIR_E_AUTH_FAILED'));
  });

  it('gs2 header: accepts "y,,", refuses channel binding and authzid', () => {
    const s = new ScramServer({ verifier: rfcVerifier }, { nonce: RFC.serverNonce });
    s.handleClientFirst(b('y,,n=*,r=abc'));
    const mk = () => new ScramServer({ verifier: rfcVerifier });
    expect(() => mk().handleClientFirst(b('p=tls-server-end-point,,n=*,r=abc'))).toThrow(code('WEIR_E_AUTH_UNSUPPORTED'));
    expect(() => mk().handleClientFirst(b('n,a=admin,n=*,r=abc'))).toThrow(code('WEIR_E_AUTH_UNSUPPORTED'));
    expect(() => mk().handleClientFirst(b('x,,n=*,r=abc'))).toThrow(code('WEIR_E_PROTO_MALFORMED'));
    expect(() => mk().handleClientFirst(b('n,,r=abc'))).toThrow(code('WEIR_E_PROTO_MALFORMED'));
    expect(() => mk().handleClientFirst(b('n,,n=*,r='))).toThrow(code('WEIR_E_PROTO_MALFORMED'));
  });

  it('server rejects a final message with another nonce, channel binding or a bad proof', () => {
    const first = (s: ScramServer) => s.handleClientFirst(b(RFC.clientFirst));
    const cases: Array<[string, string]> = [
      ['c=biws,r=other,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'WEIR_E_PROTO_MALFORMED'],
      [RFC.clientFinal.replace('c=biws', 'c=eSws'), 'WEIR_E_PROTO_MALFORMED'],
      [RFC.clientFinal.replace(/p=.*/, 'p=AAAA'), 'WEIR_E_PROTO_MALFORMED'],
      [RFC.clientFinal.replace(/,p=.*/, ''), 'WEIR_E_PROTO_MALFORMED'],
      // Same bytes as the real proof once decoded, but not canonical base64 (non-zero padding bits).
      [RFC.clientFinal.replace('AndVQ=', 'AndVR='), 'WEIR_E_PROTO_MALFORMED'],
    ];
    for (const [msg, c] of cases) {
      const s = new ScramServer({ verifier: rfcVerifier }, { nonce: RFC.serverNonce });
      first(s);
      expect(() => s.handleClientFinal(b(msg))).toThrow(code(c));
    }
    const s = new ScramServer({ verifier: rfcVerifier }, { nonce: RFC.serverNonce });
    first(s);
    expect(s.handleClientFinal(b(RFC.clientFinal.replace('dHzb', 'dHzc')))).toEqual({ ok: false });
  });

  it('client rejects a bad server-first-message', () => {
    const bad = ['r=zzz,s=QUJD,i=4096', 'r=NONCEx,s=!!,i=4096', 'r=NONCEx,s=QUJD,i=0', 'r=NONCEx,s=QUJD,i=99999999999', 'r=NONCE,s=QUJD,i=1', 'garbage'];
    for (const m of bad) {
      const c = new ScramClient('u', { password: 'p' }, { nonce: 'NONCE' });
      c.clientFirst();
      expect(() => c.handleServerFirst(b(m))).toThrow(code('WEIR_E_PROTO_MALFORMED'));
    }
    const c = new ScramClient('u', { password: 'p' }, { nonce: 'NONCE' });
    c.clientFirst();
    expect(() => c.handleServerFirst(b('m=ext,r=NONCEx,s=QUJD,i=1'))).toThrow(code('WEIR_E_AUTH_UNSUPPORTED'));
  });

  it('verifiers: format, parse, and rejection of bad ones', () => {
    const v = makeScramVerifier('pencil', { salt: Buffer.from(RFC.salt, 'base64'), iterations: 4096 });
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(parseScramVerifier(v)).toMatchObject({ iterations: 4096 });
    for (const bad of ['', 'md5abc', 'SCRAM-SHA-256$0:QUJD$a:b', v.replace(/:[^:]*$/, ':QUJD'), v.replace('$4096', '$x')]) {
      expect(parseScramVerifier(bad)).toBeNull();
    }
    expect(() => new ScramServer({ verifier: 'md5abc' })).toThrow(code('WEIR_E_AUTH_UNSUPPORTED'));
  });

  it('SASLprep leaves ASCII alone and normalises the rest', () => {
    expect(saslprep('I\u00adX')).toBe('IX');
    expect(saslprep('a\u00a0b')).toBe('a b');
    expect(saslprep('\u2168')).toBe('IX');
    expect(saslprep('ab\u0007')).toBe('ab\u0007');
    expect(saslprep('é\u0007')).toBe('é\u0007'); // prohibited → raw
  });

  it('refuses out-of-order calls with a coded error', () => {
    const s = new ScramServer({ verifier: rfcVerifier });
    expect(() => s.handleClientFinal(b(RFC.clientFinal))).toThrow(code('WEIR_E_PROTO_MALFORMED'));
    const c = new ScramClient('u', { password: 'p' });
    expect(() => c.verifyServerFinal(b(RFC.serverFinal))).toThrow(code('WEIR_E_PROTO_MALFORMED'));
  });
});

describe('mock SCRAM keys for unknown users', () => {
  const secret = Buffer.alloc(32, 1);
  it('a name always gets the same salt, another name another; shaped like a default verifier', () => {
    const a = mockScramKeys('ghost', secret);
    expect(mockScramKeys('ghost', secret)).toEqual(a);
    expect(mockScramKeys('ghost2', secret).salt.equals(a.salt)).toBe(false);
    expect(mockScramKeys('ghost', Buffer.alloc(32, 2)).salt.equals(a.salt)).toBe(false);
    expect(a.salt.length).toBe(16);
    expect(a.iterations).toBe(4096);
    expect(a.storedKey.length).toBe(32);
  });

  it('runs a whole exchange and no password gets in', () => {
    for (const password of ['', 'ghost', 'secret']) {
      const server = new ScramServer({ keys: mockScramKeys('ghost', secret) });
      expect(login(server, new ScramClient('ghost', { password })).ok).toBe(false);
    }
  });
});

