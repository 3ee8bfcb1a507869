/**
 * Switching the plugins on and off: an auth_query section while the plugin is disabled is
 * refused by `weir check` and `weir start`; a disabled plugin is not loaded. No PostgreSQL
 * is needed: weir fails (or answers) before connecting to a server.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultWeirBin, startWeir, type WeirInstance } from '@weir/testkit';

const dir = mkdtempSync(join(tmpdir(), 'weir-aq-config-'));
const started: WeirInstance[] = [];

afterAll(async () => {
  for (const w of started) await w.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function config(plugins: string, authQuery: boolean): string {
  return `general:
  host: 127.0.0.1
  port: \${PORT}
  admin_user: admin
  admin_password: admin
plugins:
${plugins}
pools:
  appdb:
    server_host: 127.0.0.1
    server_port: 1
    users: []
${authQuery ? `    auth_query:
      query: "SELECT usename, passwd FROM pg_shadow WHERE usename = $1"
      user: postgres
` : ''}`;
}

function weir(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [defaultWeirBin(), ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function file(name: string, yaml: string): string {
  const f = join(dir, name);
  writeFileSync(f, yaml.replaceAll('${PORT}', '6432'));
  return f;
}

describe('auth_query switched off', () => {
  const disabled = [
    ['enabled: false', '  auth_query: { enabled: false }\n  dynamic_pools: { enabled: true }'],
    ['not listed', '  dynamic_pools: { enabled: true }'],
  ] as const;

  for (const [how, plugins] of disabled) {
    it(`weir check refuses an auth_query section (plugin ${how}), naming the key path and line`, async () => {
      const f = file(`check-${how.replace(/\W/g, '')}.yaml`, config(plugins, true));
      const r = await weir(['check', '--config', f]);
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toContain('WEIR_E_PLUGIN_DISABLED_CONFIG');
      expect(out).toContain('pools.appdb.auth_query');
      expect(out).toMatch(/:1[0-9]:/); // the line of the section
    });
  }

  it('weir start refuses it too, before listening', async () => {
    const err = await startWeir({ config: config(disabled[0][1], true) }).then(
      (w) => { started.push(w); throw new Error('weir started'); },
      (e: Error) => e,
    );
    expect(err.message).toContain('WEIR_E_PLUGIN_DISABLED_CONFIG');
    expect(err.message).toContain('pools.appdb.auth_query');
  });

  it('weir check accepts the same file with the plugin enabled', async () => {
    const f = file('ok.yaml', config('  auth_query: { enabled: true }\n  dynamic_pools: { enabled: true }\n  idle_gc: { enabled: true, interval: 10s }', true));
    const r = await weir(['check', '--config', f]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('weir check refuses a bad auth_query section with its key path', async () => {
    const bad = config('  auth_query: { enabled: true }', true).replace('usename = $1', "usename = 'x'");
    const r = await weir(['check', '--config', file('bad.yaml', bad)]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/pools\.appdb\.auth_query\.query/);
  });

  it('idle_gc without dynamic_pools is refused at start, naming the dependency', async () => {
    const yaml = config('  idle_gc: { enabled: true }', false);
    const err = await startWeir({ config: yaml }).then(
      (w) => { started.push(w); throw new Error('weir started'); },
      (e: Error) => e,
    );
    expect(err.message).toMatch(/dynamic_pools/);
  });

  it('a disabled plugin is not loaded: no SHOW AUTH_QUERY, unknown users refused with 28P01', async () => {
    const w = await startWeir({ config: config('  auth_query: { enabled: false }', false) });
    started.push(w);
    const admin = new pg.Client({ host: w.host, port: w.port, user: 'admin', password: 'admin', database: 'weir' });
    await admin.connect();
    try {
      const help = (await admin.query('SHOW HELP')).rows.map((r) => r.command);
      expect(help).not.toContain('SHOW AUTH_QUERY');
      await expect(admin.query('SHOW AUTH_QUERY')).rejects.toThrow(/unknown SHOW/);
    } finally {
      await admin.end();
    }
    const c = new pg.Client({ host: w.host, port: w.port, user: 'alice', password: 'x', database: 'appdb' });
    c.on('error', () => {});
    const err = await c.connect().then(() => null, (e: { code?: string }) => e);
    expect(err?.code).toBe('28P01');
    expect(w.logs.join('\n')).not.toContain('@weir/plugin-auth-query');
  });
});
