import { ProtocolError, malformed } from '../errors.js';
import { safeEqual } from './secret.js';
import {
  type ScramKeys,
  attr,
  base64,
  hmac,
  makeNonce,
  makeScramVerifier,
  parseAttributes,
  parseScramVerifier,
  sha256,
  validNonce,
  xor,
} from './scram-common.js';

// Plaintext secrets get one verifier per process (random salt), so a login
// costs no PBKDF2 on the proxy.
const verifierCache = new Map<string, ScramKeys>();
const VERIFIER_CACHE_MAX = 1024;

function keysForPassword(password: string): ScramKeys {
  let keys = verifierCache.get(password);
  if (keys === undefined) {
    keys = parseScramVerifier(makeScramVerifier(password))!;
    if (verifierCache.size >= VERIFIER_CACHE_MAX) verifierCache.delete(verifierCache.keys().next().value!);
    verifierCache.set(password, keys);
  }
  return keys;
}

export interface ScramFinalResult {
  ok: boolean;
  /** server-final-message ("v=…") to send in AuthenticationSASLFinal, when ok. */
  serverFinal?: string;
  /** The client's ClientKey, recovered from its proof, when ok (for passthrough). */
  clientKey?: Buffer;
}

/**
 * Server side of SCRAM-SHA-256: verifies a client (proxy ← client). Channel
 * binding is not offered: gs2 header "n,," or "y,,"; "p=…" is refused with
 * WEIR_E_AUTH_UNSUPPORTED.
 */
export class ScramServer {
  /** The stored keys in use: the proxy's ScramClient needs the same salt and iterations for passthrough. */
  readonly keys: ScramKeys;
  private readonly serverNonce: string;
  private state: 'start' | 'first' | 'done' = 'start';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(secret: { verifier: string } | { password: string } | { keys: ScramKeys }, opts: { nonce?: string } = {}) {
    if ('keys' in secret) {
      this.keys = secret.keys;
    } else if ('verifier' in secret) {
      const keys = parseScramVerifier(secret.verifier);
      if (keys === null) throw new ProtocolError('WEIR_E_AUTH_UNSUPPORTED', 'stored secret is not a SCRAM-SHA-256 verifier');
      this.keys = keys;
    } else {
      this.keys = keysForPassword(secret.password);
    }
    this.serverNonce = opts.nonce ?? makeNonce();
  }

  /** client-first-message (the SASLInitialResponse data) → server-first-message. */
  handleClientFirst(data: Buffer): string {
    if (this.state !== 'start') throw malformed('SCRAM: unexpected client-first-message');
    this.state = 'done'; // until it succeeds
    const msg = data.toString('utf8');
    // gs2-header: cbind-flag "," [authzid] ","
    const c1 = msg.indexOf(',');
    const c2 = c1 === -1 ? -1 : msg.indexOf(',', c1 + 1);
    if (c2 === -1) throw malformed('SCRAM: client-first-message without gs2 header');
    const flag = msg.slice(0, c1);
    if (flag.startsWith('p=')) throw new ProtocolError('WEIR_E_AUTH_UNSUPPORTED', 'SCRAM channel binding is not supported');
    if (flag !== 'n' && flag !== 'y') throw malformed('SCRAM: bad channel binding flag');
    const authzid = msg.slice(c1 + 1, c2);
    if (authzid !== '') {
      if (authzid.startsWith('a=')) throw new ProtocolError('WEIR_E_AUTH_UNSUPPORTED', 'SCRAM authorization identity is not supported');
      throw malformed('SCRAM: bad authzid');
    }
    this.gs2Header = msg.slice(0, c2 + 1);
    this.clientFirstBare = msg.slice(c2 + 1);
    const attrs = parseAttributes(this.clientFirstBare, 'SCRAM client-first-message');
    if (attrs[0]?.[0] === 'm') throw new ProtocolError('WEIR_E_AUTH_UNSUPPORTED', 'SCRAM mandatory extension is not supported');
    attr(attrs, 0, 'n', 'SCRAM client-first-message'); // user name: the startup packet's user is the one that counts
    const clientNonce = attr(attrs, 1, 'r', 'SCRAM client-first-message');
    if (!validNonce(clientNonce)) throw malformed('SCRAM: bad client nonce');
    this.nonce = clientNonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${this.keys.salt.toString('base64')},i=${this.keys.iterations}`;
    this.state = 'first';
    return this.serverFirst;
  }

  /** client-final-message → result; ok=false on a wrong proof (no throw), ProtocolError on a malformed message. */
  handleClientFinal(data: Buffer): ScramFinalResult {
    if (this.state !== 'first') throw malformed('SCRAM: unexpected client-final-message');
    this.state = 'done';
    const msg = data.toString('utf8');
    const p = msg.lastIndexOf(',p=');
    if (p === -1) throw malformed('SCRAM: client-final-message without proof');
    const withoutProof = msg.slice(0, p);
    const proof = base64(msg.slice(p + 3));
    if (proof === null || proof.length !== this.keys.storedKey.length) throw malformed('SCRAM: bad proof');
    const attrs = parseAttributes(withoutProof, 'SCRAM client-final-message');
    const cbind = base64(attr(attrs, 0, 'c', 'SCRAM client-final-message'));
    if (cbind === null || cbind.toString('utf8') !== this.gs2Header) throw malformed('SCRAM: channel binding does not match');
    if (attr(attrs, 1, 'r', 'SCRAM client-final-message') !== this.nonce) throw malformed('SCRAM: nonce does not match');

    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = xor(proof, hmac(this.keys.storedKey, authMessage));
    if (!safeEqual(sha256(clientKey), this.keys.storedKey)) return { ok: false };
    const serverSignature = hmac(this.keys.serverKey, authMessage);
    return { ok: true, serverFinal: `v=${serverSignature.toString('base64')}`, clientKey };
  }
}
