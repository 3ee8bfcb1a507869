import { describe, expect, it } from 'vitest';
import { Averages } from './averages.js';
import { zeroTotals } from './totals.js';

describe('Averages', () => {
  it('per second for counts and bytes, per transaction/query/wait for times, over the last period', () => {
    const a = new Averages();
    a.sample(0, new Map([['db', zeroTotals()]]));
    expect(a.of('db').xacts).toBe(0);
    a.sample(10_000, new Map([['db', { ...zeroTotals(), xacts: 100, queries: 200, received: 5_000, xactMicros: 50_000, queryMicros: 40_000, waits: 10, waitMicros: 1_000 }]]));
    expect(a.of('db')).toMatchObject({ xacts: 10, queries: 20, received: 500, xactMicros: 500, queryMicros: 200, waitMicros: 100 });
    expect(a.of('other').xacts).toBe(0);
  });
});
