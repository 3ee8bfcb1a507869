import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { ProtocolError, malformed } from '../errors.js';
import { saslprep } from './saslprep.js';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
export const SCRAM_DEFAULT_ITERATIONS = 4096;
const SALT_LENGTH = 16;
const KEY_LENGTH = 32;

export interface ScramKeys {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** SaltedPassword = Hi(SASLprep(password), salt, i). */
export function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(saslprep(password), salt, iterations, KEY_LENGTH, 'sha256');
}

/** ClientKey and ServerKey of a password. */
export function passwordKeys(password: string, salt: Buffer, iterations: number): { clientKey: Buffer; serverKey: Buffer } {
  const sp = saltedPassword(password, salt, iterations);
  return { clientKey: hmac(sp, 'Client Key'), serverKey: hmac(sp, 'Server Key') };
}

/** A PostgreSQL SCRAM verifier: "SCRAM-SHA-256$<iter>:<b64salt>$<b64StoredKey>:<b64ServerKey>". */
export function makeScramVerifier(password: string, opts: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = opts.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  const salt = opts.salt ?? randomBytes(SALT_LENGTH);
  const { clientKey, serverKey } = passwordKeys(password, salt, iterations);
  const storedKey = sha256(clientKey);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const VERIFIER = /^SCRAM-SHA-256\$([1-9][0-9]{0,9}):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

export function parseScramVerifier(v: string): ScramKeys | null {
  const m = VERIFIER.exec(v);
  if (m === null) return null;
  const iterations = Number(m[1]);
  const salt = base64(m[2]!);
  const storedKey = base64(m[3]!);
  const serverKey = base64(m[4]!);
  if (iterations > 0x7fffffff || salt === null || salt.length === 0) return null;
  if (storedKey?.length !== KEY_LENGTH || serverKey?.length !== KEY_LENGTH) return null;
  return { iterations, salt, storedKey, serverKey };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 decode; null when `s` is not canonical base64. */
export function base64(s: string): Buffer | null {
  if (!BASE64.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  // Unused bits of the last character must be zero: 'Go=' and 'Gq=' decode alike, only one is canonical.
  return b.toString('base64') === s ? b : null;
}

/** A fresh nonce: 18 random bytes in base64 (printable, no comma). */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

/** A SCRAM nonce is printable ASCII except ','. */
export function validNonce(s: string): boolean {
  return s.length > 0 && /^[\x21-\x2b\x2d-\x7e]+$/.test(s);
}

/**
 * Splits "k=v,k=v,…" into attributes; every attribute must be a single
 * letter, '=', and a value without commas.
 */
export function parseAttributes(msg: string, what: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of msg.split(',')) {
    if (part.length < 2 || part[1] !== '=' || !/^[A-Za-z]$/.test(part[0]!)) throw malformed(`${what}: bad attribute "${part.slice(0, 20)}"`);
    out.push([part[0]!, part.slice(2)]);
  }
  return out;
}

/** Attribute `key` at index `i`, or a coded error. */
export function attr(attrs: Array<[string, string]>, i: number, key: string, what: string): string {
  const a = attrs[i];
  if (a === undefined || a[0] !== key) throw malformed(`${what}: expected attribute "${key}"`);
  return a[1];
}

export function authFailed(message: string): ProtocolError {
  return new ProtocolError('WEIR_E_AUTH_FAILED', message);
}

/**
 * Keys for a user that does not exist, so that the exchange looks like a real one (as PostgreSQL's
 * mock authentication): the salt is derived from the name and a per-process secret, so it is the
 * same on every attempt (like a real verifier's) and differs between names; no proof matches
 * the stored key, which is derived the same way and has no known ClientKey behind it.
 */
export function mockScramKeys(user: string, processSecret: Buffer): ScramKeys {
  const derive = (label: string) => createHmac('sha256', processSecret).update(label).update('\0').update(user).digest();
  return {
    iterations: SCRAM_DEFAULT_ITERATIONS,
    salt: derive('salt').subarray(0, 16),
    storedKey: derive('stored-key'),
    serverKey: derive('server-key'),
  };
}
