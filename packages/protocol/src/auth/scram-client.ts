import { ProtocolError, malformed } from '../errors.js';
import { safeEqual } from './secret.js';
import { attr, authFailed, base64, hmac, makeNonce, parseAttributes, passwordKeys, sha256, validNonce, xor } from './scram-common.js';

// PBKDF2 once per (password, salt, iterations), not once per server connection.
const keyCache = new Map<string, { clientKey: Buffer; serverKey: Buffer }>();
const KEY_CACHE_MAX = 256;

function cachedPasswordKeys(password: string, salt: Buffer, iterations: number): { clientKey: Buffer; serverKey: Buffer } {
  const k = `${iterations}:${salt.toString('base64')}:${password}`;
  let keys = keyCache.get(k);
  if (keys === undefined) {
    keys = passwordKeys(password, salt, iterations);
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(k, keys);
  }
  return keys;
}

/** SCRAM saslname: ',' and '=' escaped. */
function saslname(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * Client side of SCRAM-SHA-256: logs in to a server (proxy → PostgreSQL),
 * with a password or with the ClientKey/ServerKey of a passthrough login.
 */
export class ScramClient {
  private readonly nonce: string;
  private readonly clientFirstBare: string;
  private state: 'start' | 'first' | 'final' | 'done' = 'start';
  private expectedServerSignature: Buffer | null = null;

  constructor(
    user: string,
    private readonly cred: { password: string } | { clientKey: Buffer; serverKey: Buffer },
    opts: { nonce?: string; sendUser?: boolean } = {},
  ) {
    if ('clientKey' in cred && (cred.clientKey.length !== 32 || cred.serverKey.length !== 32)) {
      throw new ProtocolError('WEIR_E_AUTH_UNSUPPORTED', 'SCRAM passthrough keys must be 32 bytes');
    }
    this.nonce = opts.nonce ?? makeNonce();
    this.clientFirstBare = `n=${opts.sendUser ? saslname(user) : '*'},r=${this.nonce}`;
  }

  /** client-first-message: "n,,n=*,r=<nonce>". */
  clientFirst(): string {
    if (this.state !== 'start') throw malformed('SCRAM: client-first-message already sent');
    this.state = 'first';
    return `n,,${this.clientFirstBare}`;
  }

  /** server-first-message → client-final-message. Throws ProtocolError on a bad nonce, salt or iteration count. */
  handleServerFirst(data: Buffer): string {
    if (this.state !== 'first') throw malformed('SCRAM: unexpected server-first-message');
    this.state = 'done';
    const serverFirst = data.toString('utf8');
    const attrs = parseAttributes(serverFirst, 'SCRAM server-first-message');
    if (attrs[0]?.[0] === 'm') throw new ProtocolError('WEIR_E_AUTH_UNSUPPORTED', 'SCRAM mandatory extension is not supported');
    const nonce = attr(attrs, 0, 'r', 'SCRAM server-first-message');
    if (!validNonce(nonce) || nonce.length <= this.nonce.length || !nonce.startsWith(this.nonce)) {
      throw malformed('SCRAM: server nonce does not extend the client nonce');
    }
    const salt = base64(attr(attrs, 1, 's', 'SCRAM server-first-message'));
    if (salt === null || salt.length === 0) throw malformed('SCRAM: bad salt');
    const iterText = attr(attrs, 2, 'i', 'SCRAM server-first-message');
    const iterations = /^[1-9][0-9]{0,9}$/.test(iterText) ? Number(iterText) : 0;
    if (iterations < 1 || iterations > 0x7fffffff) throw malformed('SCRAM: bad iteration count');

    const cred = this.cred;
    const { clientKey, serverKey } = 'password' in cred ? cachedPasswordKeys(cred.password, salt, iterations) : cred;
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.expectedServerSignature = hmac(serverKey, authMessage);
    this.state = 'final';
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** server-final-message: throws ProtocolError WEIR_E_AUTH_FAILED unless the server proved it knows the verifier. */
  verifyServerFinal(data: Buffer): void {
    if (this.state !== 'final' || this.expectedServerSignature === null) throw malformed('SCRAM: unexpected server-final-message');
    this.state = 'done';
    const msg = data.toString('utf8');
    if (msg.startsWith('e=')) throw authFailed(`SCRAM: server error ${msg.slice(2, 100)}`);
    const attrs = parseAttributes(msg, 'SCRAM server-final-message');
    const sig = base64(attr(attrs, 0, 'v', 'SCRAM server-final-message'));
    if (sig === null || !safeEqual(sig, this.expectedServerSignature)) throw authFailed('SCRAM: server signature does not match');
  }
}
