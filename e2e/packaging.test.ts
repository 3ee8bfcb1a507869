/**
 * Every public package is publishable: an `exports` map with types, `files` limited to dist and
 * the README, a README with an example, a tarball (`npm pack --dry-run`) holding dist/, and —
 * for plugins — a kernel range that matches their @weir/kernel peer dependency.
 * Needs the packages built (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const run = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  exports?: Record<string, { types?: string; default?: string } | string>;
  files?: string[];
  peerDependencies?: Record<string, string>;
  bin?: Record<string, string>;
}

const dirs = ['packages', 'plugins'].flatMap((group) =>
  readdirSync(path.join(root, group), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, group, d.name, 'package.json')))
    .map((d) => `${group}/${d.name}`),
);
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as Manifest;
const publicDirs = dirs.filter((d) => manifest(d).private !== true);

describe.each(publicDirs)('%s', (dir) => {
  const pkg = manifest(dir);
  const at = (rel: string) => path.join(root, dir, rel);

  it('has an exports map with types, pointing at built files', () => {
    const dot = pkg.exports?.['.'];
    expect(typeof dot).toBe('object');
    const entry = dot as { types?: string; default?: string };
    expect(entry.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
    expect(entry.default).toMatch(/^\.\/dist\/.*\.js$/);
    expect(existsSync(at(entry.types!))).toBe(true);
    expect(existsSync(at(entry.default!))).toBe(true);
    expect(pkg.exports?.['./package.json']).toBe('./package.json');
    expect(pkg.types).toBe(entry.types);
    expect(pkg.main).toBe(entry.default);
  });

  const bins = Object.values(pkg.bin ?? {}).map((b) => path.posix.normalize(b));

  // A package with a native addon (@weir/io) ships its C sources and the script that compiles them.
  const native = existsSync(at('native'));
  it('ships dist and its README only (and bin/, for a package with a command; native/ and scripts/, for one with an addon)', () => {
    expect(pkg.files).toEqual([...(bins.length ? ['bin'] : []), 'dist', '!dist/.tsbuildinfo', ...(native ? ['native', 'scripts'] : []), 'README.md']);
  });

  if (bins.length) {
    it('has its commands committed under bin/, executable in git, so npm links them before any build', async () => {
      for (const bin of bins) {
        expect(bin).toMatch(/^bin\//);
        expect(readFileSync(at(bin), 'utf8')).toMatch(/^#!\/usr\/bin\/env /);
        const { stdout } = await run('git', ['ls-files', '--stage', '--', bin], { cwd: at('.') });
        expect(stdout).toMatch(/^100755 /);
      }
    });
  }

  it('has a README with an example', () => {
    const readme = at('README.md');
    expect(existsSync(readme)).toBe(true);
    const text = readFileSync(readme, 'utf8');
    expect(text).toMatch(new RegExp(`^# ${pkg.name.replace(/[/@.-]/g, '\\$&')}`, 'm'));
    expect(text).toMatch(/```(ts|sh|yaml)\n/);
  });

  it('packs dist/, the README and nothing else', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: at('.'), maxBuffer: 16 << 20 });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('README.md');
    expect(files).toContain('package.json');
    expect(files).toContain((pkg.exports!['.'] as { types: string }).types.slice(2));
    expect(files).toContain((pkg.exports!['.'] as { default: string }).default.slice(2));
    for (const bin of bins) expect(files).toContain(bin);
    const stray = files.filter((f) => !f.startsWith('dist/') && !(native && /^(native|scripts)\//.test(f)) && !bins.includes(f) && f !== 'README.md' && f !== 'package.json' && !/^LICEN[CS]E/.test(f));
    expect(stray).toEqual([]);
    expect(files.filter((f) => /\.tsbuildinfo$|\.test(-d)?\.(js|d\.ts)$/.test(f))).toEqual([]);
  });

  if (dir.startsWith('plugins/')) {
    it('declares the kernel range it supports, the same in its descriptor and its peer dependency', async () => {
      const range = pkg.peerDependencies?.['@weir/kernel'];
      expect(range).toBeDefined();
      const mod = (await import(at((pkg.exports!['.'] as { default: string }).default))) as Record<string, unknown>;
      const classes = Object.values(mod).filter(
        (v): v is { plugin: { kernel?: string } } => typeof v === 'function' && typeof (v as { plugin?: unknown }).plugin === 'object',
      );
      expect(classes.length).toBeGreaterThan(0);
      for (const c of classes) expect(c.plugin.kernel).toBe(range);
    });
  }
});

it('changesets is configured, and versions public packages only', () => {
  const cfg = JSON.parse(readFileSync(path.join(root, '.changeset', 'config.json'), 'utf8')) as {
    baseBranch: string;
    access: string;
    ignore: string[];
    privatePackages: { version: boolean; tag: boolean };
  };
  expect(cfg.baseBranch).toBe('main');
  expect(cfg.access).toBe('public');
  expect(cfg.privatePackages).toEqual({ version: false, tag: false });
  for (const dir of publicDirs) expect(cfg.ignore).not.toContain(manifest(dir).name);
  for (const ex of readdirSync(path.join(root, 'examples'))) {
    const file = path.join(root, 'examples', ex, 'package.json');
    if (existsSync(file)) expect((JSON.parse(readFileSync(file, 'utf8')) as Manifest).private).toBe(true);
  }
});
