import { timingSafeEqual } from 'node:crypto';

const MD5_HASH = /^md5[0-9a-f]{32}$/;
const SCRAM_PREFIX = 'SCRAM-SHA-256$';

/** What a configured password string is: an md5 hash, a SCRAM verifier, or plaintext. */
export function secretKind(secret: string): 'md5' | 'scram' | 'plain' {
  if (MD5_HASH.test(secret)) return 'md5';
  if (secret.startsWith(SCRAM_PREFIX)) return 'scram';
  return 'plain';
}

/** Constant-time equality (lengths are not secret). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
