import { createHash } from 'node:crypto';
import { safeEqual, secretKind } from './secret.js';

/** A stored secret: a config string (md5 hash, SCRAM verifier or plaintext), or an explicit form. */
export type AuthSecretLike = string | { password: string } | { verifier: string };

function md5hex(...parts: Array<string | Buffer>): string {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The hash PostgreSQL stores: "md5" + hex(md5(password + user)). */
export function md5Hash(password: string, user: string): string {
  return 'md5' + md5hex(password, user);
}

/**
 * The client's answer to AuthenticationMD5Password: "md5" + hex(md5(hex-hash + salt)).
 * Accepts a stored "md5…" hash (passthrough) or the plaintext password.
 */
export function md5Response(storedHashOrPassword: string, user: string, salt: Buffer): string {
  const hash = secretKind(storedHashOrPassword) === 'md5' ? storedHashOrPassword : md5Hash(storedHashOrPassword, user);
  return 'md5' + md5hex(hash.slice(3), salt);
}

/** Checks a client's md5 response against a stored secret, in constant time. A SCRAM verifier cannot verify md5: false. */
export function md5Verify(stored: AuthSecretLike, user: string, salt: Buffer, response: string): boolean {
  let secret: string;
  if (typeof stored === 'string') secret = stored;
  else if ('password' in stored) secret = stored.password;
  else return false;
  if (typeof stored === 'string' && secretKind(secret) === 'scram') return false;
  const expected = Buffer.from(md5Response(secret, user, salt), 'latin1');
  return safeEqual(expected, Buffer.from(response, 'utf8'));
}
