import type { AuthSecret } from '@weir/kernel';

const MD5 = /^md5[0-9a-f]{32}$/;
const SCRAM = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

/**
 * The stored password a lookup returned, as a secret clients authenticate against:
 * an md5 hash, a SCRAM-SHA-256 verifier, or (from a table of your own) a plaintext password.
 * null or empty: the role cannot log in with a password, as if it did not exist.
 */
export function secretFromStored(stored: unknown): AuthSecret | null {
  if (stored === null || stored === undefined) return null;
  const text = Buffer.isBuffer(stored) ? stored.toString('utf8') : String(stored);
  if (text === '') return null;
  if (MD5.test(text)) return { kind: 'md5', hash: text };
  if (SCRAM.test(text)) return { kind: 'scram-sha-256', verifier: text };
  // A verifier we cannot read must not be taken for a plaintext password.
  if (text.startsWith('SCRAM-SHA-256$')) throw new Error('the stored SCRAM-SHA-256 verifier is malformed');
  return { kind: 'plain', password: text };
}
