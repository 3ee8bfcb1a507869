import { describe, expect, it } from 'vitest';
import { configFingerprint as fp, sameConfigValue } from './fingerprint.js';

describe('configFingerprint', () => {
  it('is the same for equal values whatever the key order, and undefined keys count as absent', () => {
    expect(fp({ a: 1, b: { c: [1, 'x'], d: null } })).toBe(fp({ b: { d: null, c: [1, 'x'] }, a: 1 }));
    expect(fp({ a: 1, b: undefined })).toBe(fp({ a: 1 }));
    expect(fp(new Map([['k', { y: 2, x: 1 }]]))).toBe(fp(new Map([['k', { x: 1, y: 2 }]])));
  });

  it('differs for any change of value, type, array order or nesting', () => {
    const distinct = [
      { a: 1 }, { a: '1' }, { a: 2 }, { a: null }, { a: [1] }, { a: { b: 1 } }, { b: 1 }, {},
      [1, 2], [2, 1], [[1, 2]], '[1,2]', 1, '1', true, null, new Map([[1, 2]]), new Set([1, 2]), new Date(0),
    ];
    const prints = distinct.map(fp);
    expect(new Set(prints).size, prints.join('  ')).toBe(distinct.length);
  });

  it('sameConfigValue (deprecated) compares fingerprints', () => {
    expect([sameConfigValue({ a: 1, b: [2] }, { b: [2], a: 1 }), sameConfigValue({ a: 1 }, { a: 2 })]).toEqual([true, false]);
  });

  it('an undefined value inside an array keeps its place', () => {
    expect(fp([undefined, 1])).not.toBe(fp([1]));
  });
});
