import { describe, expect, it } from 'vitest';
import { CancelGuard } from './cancel-guard.js';
import { CancelKeys, type Cancellable } from './cancels.js';
import { LogDigest } from './log-digest.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function fakeLogger() {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, msg, fields });
  return { lines, logger: { info: at('info'), warn: at('warn') } as never };
}

describe('CancelGuard', () => {
  const opts = { limit: 3, windowMs: 60_000, blockMs: 60_000, maxAddresses: 2 };

  it('blocks an address after `limit` misses in the window, for blockMs, then counts again', () => {
    const c = clock();
    const g = new CancelGuard(opts, c.now);
    expect([g.miss('a'), g.miss('a')]).toEqual([false, false]);
    expect(g.blocked('a')).toBe(false);
    expect(g.miss('a')).toBe(true);
    expect(g.blocked('a')).toBe(true);
    expect(g.blocked('b')).toBe(false);
    c.advance(59_999);
    expect(g.blocked('a')).toBe(true);
    c.advance(1);
    expect(g.blocked('a')).toBe(false);
    expect(g.miss('a')).toBe(false);
  });

  it('misses spread over more than a window do not add up', () => {
    const c = clock();
    const g = new CancelGuard(opts, c.now);
    g.miss('a');
    g.miss('a');
    c.advance(60_000);
    expect(g.miss('a')).toBe(false);
    expect(g.miss('a')).toBe(false);
    expect(g.blocked('a')).toBe(false);
  });

  it('tracks at most maxAddresses', () => {
    const c = clock();
    const g = new CancelGuard(opts, c.now);
    g.miss('a');
    g.miss('a');
    g.miss('b');
    g.miss('c'); // forgets 'a'
    expect(g.miss('a')).toBe(false);
  });
});

describe('LogDigest', () => {
  it('logs the first event at once and the rest of the period as one counted line', async () => {
    const c = clock();
    const { lines, logger } = fakeLogger();
    const d = new LogDigest(logger, 'info', 'bad thing', 10_000, c.now);
    for (let i = 0; i < 50; i++) d.note({ i });
    expect(lines).toEqual([{ level: 'info', msg: 'bad thing', fields: { i: 0 } }]);
    d.flush();
    expect(lines).toHaveLength(2);
    expect(lines[1]!.msg).toBe('bad thing (49 more in the last 10 s)');
    d.flush();
    expect(lines).toHaveLength(2);
    c.advance(10_000);
    d.note({ i: 99 });
    expect(lines[2]!.fields).toEqual({ i: 99 });
  });
});

describe('CancelKeys', () => {
  it('draws distinct positive pids and forwards only a matching key', () => {
    const { logger } = fakeLogger();
    const keys = new CancelKeys(logger);
    let forwarded = 0;
    const s: Cancellable = { pid: keys.drawPid(), secret: 42, forwardCancel: () => forwarded++ };
    keys.add(s);
    const pids = new Set(Array.from({ length: 200 }, () => keys.drawPid()));
    expect(pids.has(s.pid)).toBe(false);
    for (const p of pids) expect(p > 0 && p < 2 ** 31).toBe(true);
    expect(Math.max(...pids)).toBeGreaterThan(2 ** 24); // not a counter
    keys.route(s.pid, 41, '127.0.0.1');
    expect(forwarded).toBe(0);
    keys.route(s.pid, 42, '127.0.0.1');
    expect(forwarded).toBe(1);
    keys.delete(s);
    keys.route(s.pid, 42, '127.0.0.1');
    expect(forwarded).toBe(1);
  });

  it('ten wrong keys from one address block its cancels, right key or not; other addresses go on', () => {
    const { lines, logger } = fakeLogger();
    const keys = new CancelKeys(logger);
    let forwarded = 0;
    const s: Cancellable = { pid: keys.drawPid(), secret: 7, forwardCancel: () => forwarded++ };
    keys.add(s);
    for (let i = 0; i < 10; i++) keys.route(s.pid, 8, '10.0.0.1');
    keys.route(s.pid, 7, '10.0.0.1');
    expect(forwarded).toBe(0);
    keys.route(s.pid, 7, '10.0.0.2');
    expect(forwarded).toBe(1);
    expect(lines.length).toBeLessThanOrEqual(2); // aggregated: one line per kind and period
  });
});
