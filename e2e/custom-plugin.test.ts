/**
 * Third-party plugins loaded by package name into the weir proxy: examples/custom-plugin (npm
 * package `weir-plugin-lease-audit`, a plugin class) and examples/minimal-plugin
 * (`weir-plugin-drop-audit`, made with definePlugin) are named under `plugins:`, resolved from the
 * config file's directory, configured under their package names; their reports show on the
 * admin console.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWeirBin, pluginTestConfig, startCluster, startWeir, type Cluster, type WeirInstance } from '@weir/testkit';

const PLUGIN = 'weir-plugin-lease-audit';
const MINIMAL = 'weir-plugin-drop-audit';

let cluster: Cluster;
let weir: WeirInstance;
/** Config files for `weir check` go inside the repository, so npm packages resolve from them. */
const scratchParent = path.join(__dirname, '..', 'node_modules', '.cache', 'weir-e2e-custom-plugin');
let scratch: string;

/** The e2e's config: `plugins` (the body of `plugins:`), one pool appdb for app/secret. */
function config(plugins: string, port = '${PORT}'): string {
  return pluginTestConfig({ plugins, port, serverPort: cluster.port, general: { log_level: 'info' } });
}

/** `weir check --config FILE` on this YAML: exit code and output. */
function check(yaml: string): { status: number | null; output: string } {
  const file = path.join(scratch, `check-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const r = spawnSync(process.execPath, [defaultWeirBin(), 'check', '--config', file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

beforeAll(async () => {
  mkdirSync(scratchParent, { recursive: true });
  scratch = mkdtempSync(path.join(scratchParent, 'run-'));
  cluster = await startCluster({ name: 'e2e-custom-plugin' });
  await cluster.createRole('app', 'secret', { method: 'scram-sha-256' });
  await cluster.createDatabase('appdb', 'app');
  weir = await startWeir({ config: config(`${PLUGIN}:\n  slow_lease: 50ms\n${MINIMAL}:\n  report: CLOSES`) });
});

afterAll(async () => {
  await weir?.stop();
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a plugin named by its npm package', () => {
  it('is loaded into the running proxy and audits its leases (SHOW LEASES on the admin console)', async () => {
    const app = new pg.Client({ host: weir.host, port: weir.port, database: 'appdb', user: 'app', password: 'secret' });
    await app.connect();
    try {
      for (let i = 0; i < 3; i++) await app.query('SELECT 1');
      await app.query('SELECT pg_sleep(0.2)');
    } finally {
      await app.end();
    }
    await weir.waitForLog(/lease on app@appdb held \d+ms \(slow_lease 50ms\)/);

    const admin = new pg.Client({ host: weir.host, port: weir.port, database: 'weir', user: 'admin', password: 'admin' });
    await admin.connect();
    try {
      const help = await admin.query('SHOW HELP');
      expect(JSON.stringify(help.rows)).toContain('SHOW LEASES');
      const { rows } = await admin.query('SHOW LEASES');
      const row = rows.find((r) => r.pool === 'app@appdb');
      expect(row).toBeDefined();
      expect(Number(row.checkouts)).toBeGreaterThanOrEqual(4);
      expect(Number(row.active)).toBe(0);
      expect(Number(row.slow)).toBe(1);
      expect(Number(row.max_held_ms)).toBeGreaterThanOrEqual(200);
    } finally {
      await admin.end();
    }
  });

  it('a plugin made with definePlugin loads the same way, beside it (SHOW CLOSES: its report, renamed in its section)', async () => {
    const admin = new pg.Client({ host: weir.host, port: weir.port, database: 'weir', user: 'admin', password: 'admin' });
    await admin.connect();
    try {
      expect(JSON.stringify((await admin.query('SHOW HELP')).rows)).toContain('SHOW CLOSES');
      const r = await admin.query('SHOW CLOSES');
      expect(r.fields.map((f) => f.name)).toEqual(['pool', 'reason', 'count']);
    } finally {
      await admin.end();
    }
    expect(weir.logs.join('\n')).toMatch(/"plugins":\[[^\]]*"weir-plugin-drop-audit"/);
  });

  it('weir check validates the definePlugin plugin\'s section by its schema, under its package name', () => {
    expect(check(config(`${MINIMAL}: { warn: [error, idle] }`, '6432')).status).toBe(0);
    const r = check(config(`${MINIMAL}: { report: no spaces }`, '6432'));
    expect(r.status).toBe(1);
    expect(r.output).toContain(`plugins.${MINIMAL}.report: a report name is letters, digits and _`);
  });

  it('weir check accepts the package name and its section', () => {
    const r = check(config(`${PLUGIN}: { slow_lease: 1s, report: AUDIT }`, '6432'));
    expect(r.output).toMatch(/ok/);
    expect(r.status).toBe(0);
  });

  it('weir check validates the section with the plugin schema, naming the key path', () => {
    const r = check(config(`${PLUGIN}: { slow_lease: soon }`, '6432'));
    expect(r.status).toBe(1);
    expect(r.output).toContain(`plugins.${PLUGIN}.slow_lease`);
  });

  it('weir check fails on a package that is not installed', () => {
    const r = check(config('weir-plugin-not-installed-anywhere: {}', '6432'));
    expect(r.status).toBe(1);
    expect(r.output).toContain('WEIR_E_PLUGIN_NOT_FOUND');
    expect(r.output).toContain('weir-plugin-not-installed-anywhere');
  });

  it('weir check fails on a package that exports no plugin class', () => {
    // `pg` is installed but is no weir plugin
    const r = check(config('pg: {}', '6432'));
    expect(r.status).toBe(1);
    expect(r.output).toContain('WEIR_E_PLUGIN_INVALID');
  });

  it('weir check fails on a plugin for another kernel major', () => {
    const dir = path.join(scratch, 'node_modules', 'weir-plugin-from-the-future');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'weir-plugin-from-the-future', version: '1.0.0', main: 'index.js' }));
    writeFileSync(
      path.join(dir, 'index.js'),
      `const { z } = require('zod');
class FuturePlugin { setup() {} }
FuturePlugin.plugin = { name: 'weir-plugin-from-the-future', configKey: 'future', configSchema: z.object({}), kernel: '^9.0.0' };
module.exports = { FuturePlugin };
`,
    );
    const r = check(config('weir-plugin-from-the-future: {}', '6432'));
    expect(r.status).toBe(1);
    expect(r.output).toContain('WEIR_E_PLUGIN_KERNEL_VERSION');
    expect(r.output).toContain('^9.0.0');
  });
});
