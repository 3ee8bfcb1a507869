/**
 * The plugin against the kernel alone: a Kernel, a Pool over a fake connector and a FakeClock.
 * No PostgreSQL needed — the fastest way to test hook logic.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, Kernel, Pool, REPORTS, Reports, generalSchema, validatePluginSections, type Config, type Connector } from '@weir/kernel';
import { LEASE_AUDIT, LeaseAuditPlugin } from '../src/index.js';

function config(section: Record<string, unknown> = {}): Config {
  return { general: generalSchema.parse({}), plugins: { lease_audit: { enabled: true, ...section } }, pools: {} };
}

async function setup(section: Record<string, unknown> = {}) {
  const clock = new FakeClock(1_000);
  const cfg = config(section);
  validatePluginSections(cfg, [LeaseAuditPlugin]);
  const kernel = new Kernel({ config: cfg, plugins: [LeaseAuditPlugin], clock });
  const reports = new Reports();
  kernel.container.register(REPORTS, { useValue: reports });
  await kernel.start();
  let n = 0;
  const connector: Connector<{ n: number }> = { connect: async () => ({ n: ++n }), destroy: () => undefined };
  const key = { database: 'appdb', user: 'app' };
  const pool = new Pool({ info: { name: 'app@appdb', key, kind: 'static' }, connector, options: { max: 2, acquireTimeoutMs: 0 }, hooks: kernel.hooks, clock });
  kernel.registry.add({ key, kind: 'static', pool });
  return { clock, kernel, pool, reports, audit: kernel.resolve(LEASE_AUDIT) };
}

describe('LeaseAuditPlugin on the kernel', () => {
  it('counts checkouts, hold times and slow leases', async () => {
    const { clock, kernel, pool, audit } = await setup({ slow_lease: '100ms' });
    const a = await pool.acquire();
    clock.advance(30);
    a.release();
    const b = await pool.acquire();
    clock.advance(250);
    expect(audit.pool('app@appdb')).toMatchObject({ active: 1, oldestActiveMs: 250 });
    b.release();
    expect(audit.pool('app@appdb')).toMatchObject({ checkouts: 2, releases: 2, active: 0, heldMsTotal: 280, heldMsMax: 250, slow: 1 });
    await kernel.stop();
  });

  it('counts closed connections by reason', async () => {
    const { kernel, pool, audit } = await setup();
    const a = await pool.acquire();
    a.destroy();
    const b = await pool.acquire();
    b.release();
    await kernel.registry.retire('appdb', 'app', 'test');
    expect(audit.pool('app@appdb')?.drops).toEqual({ 'released-bad': 1, retired: 1 });
    await kernel.stop();
  });

  it('publishes its report under the configured name', async () => {
    const { clock, kernel, pool, reports } = await setup({ report: 'AUDIT' });
    const a = await pool.acquire();
    clock.advance(10);
    a.release();
    const r = reports.get('audit')!();
    expect(r.columns).toEqual(['pool', 'checkouts', 'active', 'oldest_active_ms', 'avg_held_ms', 'max_held_ms', 'slow', 'drops']);
    expect(r.rows).toEqual([['app@appdb', 1, 0, 0, 10, 10, 0, '']]);
    await kernel.stop();
    expect(reports.get('audit')).toBeUndefined();
  });

  it('rejects a bad config section with the key path', () => {
    expect(() => validatePluginSections(config({ slow_lease: 'soon' }), [LeaseAuditPlugin])).toThrow(/plugins\.lease_audit\.slow_lease/);
    expect(() => validatePluginSections(config({ colour: 'red' }), [LeaseAuditPlugin])).toThrow(/colour/);
  });

  it('runs without a REPORTS service (hosts that show no reports)', async () => {
    const cfg = config();
    const kernel = new Kernel({ config: cfg, plugins: [LeaseAuditPlugin] });
    await kernel.start();
    expect(kernel.resolve(LEASE_AUDIT).stats()).toEqual([]);
    await kernel.stop();
  });
});
