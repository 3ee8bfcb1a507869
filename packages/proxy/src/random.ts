import crypto from 'node:crypto';

/**
 * Cryptographically random bytes for per-login values (md5 salts, cancel keys), drawn from a
 * pool refilled 4 KiB at a time instead of one system call per login.
 */
const POOL = 4096;
let pool = crypto.randomBytes(POOL);
let used = 0;

function take(n: number): number {
  if (used + n > POOL) {
    pool = crypto.randomBytes(POOL);
    used = 0;
  }
  const at = used;
  used += n;
  return at;
}

/** A fresh 4-byte buffer of random bytes. */
export function random4(): Buffer {
  const at = take(4);
  return Buffer.from(pool.subarray(at, at + 4));
}

/** A random signed 32-bit integer. */
export function randomInt32(): number {
  return pool.readInt32BE(take(4));
}
