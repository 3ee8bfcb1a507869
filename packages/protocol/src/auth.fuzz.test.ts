import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScramClient, ScramServer, makeScramVerifier, md5Response, md5Verify, parseScramVerifier } from './index.js';
import { coded, mutate, mutation } from './testing/arbitraries.js';

let runs = 0;
const verifier = makeScramVerifier('secret', { iterations: 16 });
const keys = parseScramVerifier(verifier)!;
const b = (s: string) => Buffer.from(s);

// a real exchange to mutate
const client = new ScramClient('u', { password: 'secret' }, { nonce: 'clientnonce' });
const server = new ScramServer({ verifier }, { nonce: 'servernonce' });
const clientFirst = client.clientFirst();
const serverFirst = server.handleClientFirst(b(clientFirst));
const clientFinal = client.handleServerFirst(b(serverFirst));
const serverFinal = server.handleClientFinal(b(clientFinal)).serverFinal!;

const noise = fc.oneof(
  fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 120 }).map(b),
);
const mutated = (valid: string) => fc.oneof(noise, fc.array(mutation, { minLength: 1, maxLength: 3 }).map((m) => mutate(b(valid), m)));

describe('auth under fast-check', () => {
  it('ScramServer: any client-first-message gives a server-first-message or a coded error', () => {
    fc.assert(
      fc.property(mutated(clientFirst), (msg) => {
        runs++;
        const r = coded(() => new ScramServer({ verifier }).handleClientFirst(msg));
        if (r !== undefined) expect(r).toMatch(/^r=[^,]+,s=[^,]+,i=16$/);
      }),
      { numRuns: 6_000 },
    );
  });

  it('ScramServer: any client-final-message gives ok, not ok, or a coded error — ok only for the real proof', () => {
    fc.assert(
      fc.property(mutated(clientFinal), (msg) => {
        runs++;
        const s = new ScramServer({ verifier }, { nonce: 'servernonce' });
        s.handleClientFirst(b(clientFirst));
        const r = coded(() => s.handleClientFinal(msg));
        if (r?.ok) expect(msg.toString().endsWith(clientFinal.slice(clientFinal.indexOf(',p=')))).toBe(true);
      }),
      { numRuns: 6_000 },
    );
  });

  it('ScramClient: any server message gives a reply or a coded error', () => {
    fc.assert(
      fc.property(mutated(serverFirst), mutated(serverFinal), (first, final) => {
        runs++;
        const c = new ScramClient('u', { clientKey: xorKey(), serverKey: keys.serverKey }, { nonce: 'clientnonce' });
        c.clientFirst();
        if (coded(() => c.handleServerFirst(first)) !== undefined) coded(() => c.verifyServerFinal(final));
      }),
      { numRuns: 6_000 },
    );
  });

  it('md5: random responses never verify, and never throw', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const good = md5Response('secret', 'u', salt);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (resp) => {
        runs++;
        expect(md5Verify('secret', 'u', salt, resp)).toBe(resp === good);
      }),
      { numRuns: 2_000 },
    );
  });

  it('ran at least 20,000 inputs', () => {
    expect(runs).toBeGreaterThanOrEqual(20_000);
  });
});

/** The real ClientKey, recovered once through a login. */
let clientKey: Buffer | undefined;
function xorKey(): Buffer {
  if (clientKey === undefined) {
    const s = new ScramServer({ verifier });
    const c = new ScramClient('u', { password: 'secret' });
    clientKey = s.handleClientFinal(b(c.handleServerFirst(b(s.handleClientFirst(b(c.clientFirst())))))).clientKey!;
  }
  return clientKey;
}
