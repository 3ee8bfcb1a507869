import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks, systemClock } from './clock.js';
import { parseConfig } from './config/parse.js';
import { baseConfigSchema } from './config/schema.js';
import { Kernel } from './kernel.js';
import { Pool } from './pool.js';

describe('Kernel metrics', () => {
  it('exposes pool gauges read from the registry at scrape time', async () => {
    const kernel = new Kernel({ config: parseConfig('', baseConfigSchema) });
    const pool = new Pool<object>({
      info: { name: 'app@appdb', key: { database: 'appdb', user: 'app' }, kind: 'dynamic' },
      connector: { connect: async () => ({}), destroy: () => undefined },
      options: { max: 3, acquireTimeoutMs: 0 },
      hooks: kernel.hooks,
    });
    kernel.registry.add({ key: pool.info.key, kind: 'dynamic', pool });
    const a = await pool.acquire();
    await pool.acquire();
    a.release();
    const text = await kernel.metrics.metrics();
    expect(text).toContain('weir_pool_connections{pool="app@appdb",kind="dynamic",state="idle"} 1');
    expect(text).toContain('weir_pool_connections{pool="app@appdb",kind="dynamic",state="active"} 1');
    expect(text).toContain('weir_pools{kind="dynamic"} 1');
    await kernel.stop();
    expect(await kernel.metrics.metrics()).not.toContain('app@appdb');
  });
});

describe('clocks', () => {
  it('systemClock reads the time once per event-loop turn', async () => {
    const a = systemClock.now();
    const spin = Date.now() + 5;
    while (Date.now() < spin) {
      // burn a few ms inside one turn
    }
    expect(systemClock.now()).toBe(a);
    await new Promise((r) => setTimeout(r, 5));
    expect(systemClock.now()).toBeGreaterThan(a);
  });

  it('FakeClock runs due timers in order, at their own time', async () => {
    const clock = new FakeClock(100);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    const c = clock.setTimeout(() => seen.push('cancelled'), 15);
    clock.setTimeout(() => {
      seen.push(`c@${clock.now()}`);
      clock.setTimeout(() => seen.push(`d@${clock.now()}`), 5);
    }, 20);
    clock.clearTimeout(c);
    expect(clock.pending()).toBe(3);
    expect(clock.nextAt()).toBe(110);
    clock.advance(30);
    expect(seen).toEqual(['a@110', 'b@120', 'c@120', 'd@125']);
    expect(clock.now()).toBe(130);
    let done = false;
    clock.setTimeout(() => void Promise.resolve().then(() => (done = true)), 1);
    await clock.advanceAsync(1);
    await flushMicrotasks();
    expect(done).toBe(true);
  });
});
