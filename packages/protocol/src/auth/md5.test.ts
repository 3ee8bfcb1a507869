import { describe, expect, it } from 'vitest';
import { md5Hash, md5Response, md5Verify } from './md5.js';
import { makeScramVerifier } from './scram-common.js';
import { secretKind } from './secret.js';

const salt = Buffer.from([1, 2, 3, 4]);

describe('md5', () => {
  it('hashes password + user like PostgreSQL', () => {
    expect(md5Hash('password', 'user')).toBe('md54d45974e13472b5a0be3533de4666414');
    expect(md5Hash('postgres', 'postgres')).toBe('md53175bce1d3201d16594cebf9d7eb3f9d');
  });

  it('answers a salt from the password or, in passthrough, from the stored hash', () => {
    const expected = 'md5a3576f1ae039b8996bc4fc2720f9c71a';
    expect(md5Response('password', 'user', salt)).toBe(expected);
    expect(md5Response(md5Hash('password', 'user'), 'user', salt)).toBe(expected);
  });

  it('verifies against a hash, a plaintext password, and refuses otherwise', () => {
    const response = md5Response('password', 'user', salt);
    expect(md5Verify(md5Hash('password', 'user'), 'user', salt, response)).toBe(true);
    expect(md5Verify('password', 'user', salt, response)).toBe(true);
    expect(md5Verify({ password: 'password' }, 'user', salt, response)).toBe(true);
    expect(md5Verify('password', 'other', salt, response)).toBe(false);
    expect(md5Verify('password', 'user', Buffer.from([1, 2, 3, 5]), response)).toBe(false);
    expect(md5Verify('password', 'user', salt, response.slice(0, -1))).toBe(false);
    expect(md5Verify('password', 'user', salt, '')).toBe(false);
    expect(md5Verify(makeScramVerifier('password', { iterations: 16 }), 'user', salt, response)).toBe(false);
    expect(md5Verify({ verifier: 'x' }, 'user', salt, response)).toBe(false);
  });

  it('classifies configured secrets', () => {
    expect(secretKind(md5Hash('a', 'b'))).toBe('md5');
    expect(secretKind(makeScramVerifier('a', { iterations: 16 }))).toBe('scram');
    expect(secretKind('md5 but plaintext')).toBe('plain');
  });
});
