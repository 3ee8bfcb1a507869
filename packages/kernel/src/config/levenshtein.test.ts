import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './levenshtein.js';

describe('editDistance', () => {
  it('counts inserts, deletes, substitutions and neighbour swaps', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('pool_size', 'pool_size')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('sever_host', 'server_host')).toBe(1);
    expect(editDistance('pool_szie', 'pool_size')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('pool_mode', 'pool_size')).toBe(3);
  });

  it('is symmetric', () => {
    for (const [a, b] of [['intervl', 'interval'], ['prot', 'port'], ['abc', 'xyz12']] as const) {
      expect(editDistance(a, b)).toBe(editDistance(b, a));
    }
  });
});

describe('closest', () => {
  const keys = ['server_host', 'server_port', 'pool_size', 'pool_mode', 'users'];
  it('suggests the nearest key within a small distance', () => {
    expect(closest('pool_szie', keys)).toBe('pool_size');
    expect(closest('sever_host', keys)).toBe('server_host');
    expect(closest('POOL_MODE', keys)).toBe('pool_mode');
    expect(closest('user', keys)).toBe('users');
  });
  it('suggests nothing for a word unlike any key', () => {
    expect(closest('banana', keys)).toBeUndefined();
    expect(closest('xy', keys)).toBeUndefined();
    expect(closest('pool', [])).toBeUndefined();
  });
});
