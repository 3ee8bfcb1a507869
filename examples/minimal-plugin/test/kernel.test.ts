/** The plugin on the kernel alone: a Kernel, a Pool over a fake connector. No PostgreSQL. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Kernel, Pool, REPORTS, Reports, createLogger, generalSchema, validatePluginSections, type Config } from '@weir/kernel';
import { DropAuditPlugin } from '../src/index.js';

function config(section: Record<string, unknown> = {}): Config {
  return { general: generalSchema.parse({}), plugins: { drop_audit: { enabled: true, ...section } }, pools: {} };
}

async function setup(section: Record<string, unknown> = {}) {
  const cfg = config(section);
  validatePluginSections(cfg, [DropAuditPlugin]);
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({ write: (chunk, _enc, cb) => (logs.push(JSON.parse(String(chunk))), cb()) });
  const kernel = new Kernel({ config: cfg, plugins: [DropAuditPlugin], logger: createLogger({ level: 'warn', destination }) });
  const reports = new Reports();
  kernel.container.register(REPORTS, { useValue: reports });
  await kernel.start();
  const key = { database: 'appdb', user: 'app' };
  const pool = new Pool({
    info: { name: 'app@appdb', key, kind: 'static' },
    connector: { connect: async () => ({}), destroy: () => undefined },
    options: { max: 2, acquireTimeoutMs: 0 },
    hooks: kernel.hooks,
  });
  kernel.registry.add({ key, kind: 'static', pool });
  return { kernel, pool, reports, logs };
}

describe('DropAuditPlugin on the kernel', () => {
  it('counts closes by pool and reason in its report and its metric', async () => {
    const { kernel, pool, reports } = await setup({ report: 'CLOSES' });
    (await pool.acquire()).destroy();
    (await pool.acquire()).destroy();
    (await pool.acquire()).release();
    await kernel.registry.retire('appdb', 'app', 'test');
    expect(reports.get('closes')!()).toEqual({ columns: ['pool', 'reason', 'count'], rows: [['app@appdb', 'released-bad', 2], ['app@appdb', 'retired', 1]] });
    const metric = await kernel.metrics.getSingleMetricAsString('weir_plugin_drops_total');
    expect(metric).toContain('# TYPE weir_plugin_drops_total counter');
    expect(metric).toContain('weir_plugin_drops_total{pool="app@appdb",reason="released-bad"} 2');
    await kernel.stop();
    expect([reports.get('closes'), kernel.metrics.getSingleMetric('weir_plugin_drops_total')]).toEqual([undefined, undefined]);
  });

  it('warns for the reasons in `warn` only', async () => {
    const { kernel, pool, logs } = await setup({ warn: ['retired'] });
    (await pool.acquire()).destroy();
    (await pool.acquire()).release();
    await kernel.registry.retire('appdb', 'app', 'test');
    expect(logs.map((l) => [l.plugin, l.reason, l.msg])).toEqual([['weir-plugin-drop-audit', 'retired', 'a server connection of app@appdb closed: retired']]);
    await kernel.stop();
  });

  it('rejects a bad section with its key path', () => {
    expect(() => validatePluginSections(config({ report: 'no spaces' }), [DropAuditPlugin])).toThrow(/plugins\.drop_audit\.report: a report name/);
    expect(() => validatePluginSections(config({ warn: 'error' }), [DropAuditPlugin])).toThrow(/plugins\.drop_audit\.warn/);
  });
});
