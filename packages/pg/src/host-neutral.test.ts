/**
 * The built-in plugins that mean something in an application run there from the same package the
 * proxy loads: each one's main entry reaches no host (its import graph, as built), and it does its
 * job in a @weir/pg Pool. @weir/pg itself imports no plugin and no proxy, and nothing by a name in
 * a variable: it finds the statement cache through the kernel's STATEMENT_CACHE.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@weir/kernel';
import { startCluster, type Cluster } from '@weir/testkit';
import { DynamicPoolsPlugin } from '@weir/plugin-dynamic-pools';
import { IdleGcPlugin } from '@weir/plugin-idle-gc';
import { PreparedStatementsPlugin } from '@weir/plugin-prepared-statements';
import { Pool } from './index.js';

const require = createRequire(__filename);
/** ESM `from '…'` / `import('…')` and, as tsc emits CommonJS, `require("…")`. */
const IMPORT = /\b(?:from|import|require)\s*\(?\s*(['"])([^'"]+)\1/g;

/** The bare specifiers a built entry file reaches through its relative imports; `dynamic` counts import() of a non-literal. */
function importGraph(entry: string): { packages: Set<string>; dynamic: number } {
  const packages = new Set<string>();
  const seen = new Set<string>();
  let dynamic = 0;
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    dynamic += (text.match(/\b(?:import|require)\(\s*[^'"\s)]/g) ?? []).length;
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[2]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { packages, dynamic };
}

/** No host (the proxy, @weir/pg) in a plugin's main entry, and no plugin but those whose tokens it uses (`tokensOf`). */
function expectHostNeutral(pkg: string, tokensOf: string[] = []): Set<string> {
  const { packages } = importGraph(require.resolve(pkg));
  const weir = [...packages].filter((p) => p.startsWith('@weir/') || p === 'weir');
  expect(weir.filter((p) => p !== '@weir/kernel' && p !== '@weir/protocol')).toEqual(tokensOf);
  return packages;
}

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'weir-pg-host-neutral' });
  await cluster.createRole('app', 'secret');
  await cluster.createDatabase('appdb', 'app');
  await cluster.createRole('acme', 'acme-pw', { method: 'scram-sha-256' });
  await cluster.createDatabase('acme_db', 'acme');
});

afterAll(async () => {
  await cluster?.stop();
});

const base = () => ({ host: cluster.host, port: cluster.port, database: 'appdb', user: 'app', password: 'secret' });
const acme = { database: 'acme_db', user: 'acme', password: 'acme-pw' };

describe('@weir/pg', () => {
  it('imports no plugin and no proxy, and nothing by a name in a variable', () => {
    const { packages, dynamic } = importGraph(require.resolve('@weir/pg'));
    expect([...packages].filter((p) => p.startsWith('@weir/') || p === 'weir')).toEqual(['@weir/kernel']);
    expect(dynamic).toBe(0);
  });
});

describe('the same plugin package in a host app', () => {
  it('prepared-statements: its core imports no host; @weir/pg finds its cache through the kernel and counts hits', async () => {
    const packages = expectHostNeutral('@weir/plugin-prepared-statements');
    expect(packages.has('@weir/kernel')).toBe(true);
    expect(packages.has('@weir/protocol')).toBe(false); // the wire-level part lives in its /proxy entry
    expect(importGraph(require.resolve('@weir/plugin-prepared-statements/proxy')).packages.has('@weir/proxy')).toBe(true);
    const p = new Pool({ ...base(), max: 1, plugins: [PreparedStatementsPlugin] });
    try {
      for (const n of [1, 2, 3]) await p.query({ name: 'plus', text: 'SELECT $1::int + 1 AS n', values: [n] });
      expect(p.kernel.startedPlugins()).toEqual(['@weir/plugin-prepared-statements']);
      // pool, connections, statements, hits, misses, evictions, stale
      expect(p.report('PREPARED_STATEMENTS')!.rows).toEqual([['app@appdb', 1, 1, 2, 1, 0, 0]]);
    } finally {
      await p.end();
    }
  });

  it('dynamic-pools: imports no host; pool.for(tenant) gets a dynamic pool logged in as the tenant', async () => {
    expectHostNeutral('@weir/plugin-dynamic-pools');
    const p = new Pool({ ...base(), plugins: [DynamicPoolsPlugin] });
    try {
      expect((await p.for(acme).query('SELECT current_user AS u')).rows[0].u).toBe('acme');
      expect(p.kernel.registry.get('acme_db', 'acme')?.kind).toBe('dynamic');
    } finally {
      await p.end();
    }
  });

  it('idle-gc: imports no host; retires an idle tenant pool on the kernel clock', async () => {
    expectHostNeutral('@weir/plugin-idle-gc', ['@weir/plugin-dynamic-pools']); // DYNAMIC_POOL_KEYS, its exported token
    const clock = new FakeClock(1_000_000);
    const p = new Pool({ ...base(), clock, plugins: [DynamicPoolsPlugin, [IdleGcPlugin, { interval: '10s', pool_idle_timeout: '1m' }]] });
    try {
      await p.for(acme).query('SELECT 1');
      expect(p.kernel.registry.get('acme_db', 'acme')).toBeDefined();
      await clock.advanceAsync(70_000);
      expect(p.kernel.registry.get('acme_db', 'acme')).toBeUndefined();
    } finally {
      await p.end();
    }
  });
});
