import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionsError, parseOptions, splitOptions } from './options.js';

describe('startup options', () => {
  it('reads -c, -cname and --name forms; dashes become underscores; names lower-cased', () => {
    expect([...parseOptions('-c statement_timeout=1234 -csearch_path=a,b --work-mem=8MB -c DateStyle=ISO')]).toEqual([
      ['statement_timeout', '1234'], ['search_path', 'a,b'], ['work_mem', '8MB'], ['datestyle', 'ISO'],
    ]);
  });

  it('a backslash keeps a space in a value; the empty string asks for nothing', () => {
    expect(parseOptions('-c application_name=my\\ app').get('application_name')).toBe('my app');
    expect(parseOptions('   ').size).toBe(0);
  });

  it.each(['-c', '-c statement_timeout', '-B 100', 'statement_timeout=1', '--=x', '-c =1'])('refuses %j with a syntax error', (o) => {
    expect(() => parseOptions(o)).toThrow(OptionsError);
    try {
      parseOptions(o);
    } catch (e) {
      expect((e as OptionsError).sqlstate).toBe('42601');
    }
  });

  it('property: escaping every character of words and joining them splits back to the same words', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1 }), { maxLength: 8 }), (words) => {
      const text = words.map((w) => w.replace(/./gsu, (c) => `\\${c}`)).join('  ');
      expect(splitOptions(text)).toEqual(words);
    }));
  });
});
