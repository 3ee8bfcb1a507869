import { describe, expect, it } from 'vitest';
import { internParams, paramSyncQuery } from './params.js';

const m = (o: Record<string, string>) => new Map(Object.entries(o));

describe('paramSyncQuery', () => {
  it('SETs reported parameters that differ and nothing when all match', () => {
    const applied = new Map<string, string>();
    expect(paramSyncQuery(m({ TimeZone: 'UTC' }), m({ TimeZone: 'UTC' }), applied)).toBeNull();
    expect(paramSyncQuery(m({ TimeZone: "Europe/O'x" }), m({ TimeZone: 'UTC' }), applied)).toBe(`SET "TimeZone" = 'Europe/O''x';`);
    expect(applied.size).toBe(0); // reported ones are tracked by the server's ParameterStatus
  });

  it('tracks unreported parameters it SET and RESETs them for a client without them', () => {
    const applied = new Map<string, string>();
    expect(paramSyncQuery(m({ statement_timeout: '5s' }), m({}), applied)).toBe(`SET statement_timeout = '5s';`);
    expect(applied).toEqual(m({ statement_timeout: '5s' }));
    expect(paramSyncQuery(m({ statement_timeout: '5s' }), m({}), applied)).toBeNull();
    expect(paramSyncQuery(m({ work_mem: '8MB' }), m({}), applied)).toBe(`RESET statement_timeout;SET work_mem = '8MB';`);
    expect(paramSyncQuery(m({}), m({}), applied)).toBe('RESET work_mem;');
    expect(applied.size).toBe(0);
  });
});

describe('internParams', () => {
  it('gives clients with the same parameters, in the same order, one shared map', () => {
    const a = internParams(new Map([['application_name', 'app'], ['TimeZone', 'UTC']]));
    const b = internParams(new Map([['application_name', 'app'], ['TimeZone', 'UTC']]));
    const c = internParams(new Map([['application_name', 'other'], ['TimeZone', 'UTC']]));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect([...c]).toEqual([['application_name', 'other'], ['TimeZone', 'UTC']]);
  });
  it('never confuses a name/value split: the key separates every part', () => {
    const a = internParams(new Map([['ab', 'c']]));
    const b = internParams(new Map([['a', 'bc']]));
    expect(b).not.toBe(a);
  });
});
