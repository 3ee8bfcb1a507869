/**
 * The plugin author's path, measured (docs/plugins.md): examples/minimal-plugin — package,
 * typed config, one hook, a report, a metric — is at most 80 lines outside its tests and README.
 * A line counts unless it is blank or only a comment (`//`, or inside / opening / closing `/* … *\/`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const EXAMPLE = resolve(__dirname, '../../../examples/minimal-plugin');
const BUDGET = 80;
const SKIP = new Set(['test', 'README.md', 'node_modules', 'dist', '.turbo']);

/** Lines that are code: not blank, not only a comment. */
function codeLines(text: string): number {
  let n = 0;
  let inBlock = false;
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) continue;
      inBlock = false;
      line = line.slice(end + 2).trim();
    }
    if (line.startsWith('/*')) {
      const end = line.indexOf('*/', 2);
      if (end < 0) {
        inBlock = true;
        continue;
      }
      line = line.slice(end + 2).trim();
    }
    if (line !== '' && !line.startsWith('//')) n++;
  }
  return n;
}

/** The author's files: everything in the package but its tests, README and build output. */
function authored(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? authored(p) : [p];
  });
}

describe('the plugin author\'s path', () => {
  it('counts code lines, not blanks or comments', () => {
    expect(codeLines('/** doc\n * more\n */\nconst a = 1; // note\n\n// only a comment\n/* one */ const b = 2;\n  /* open\n close */\n}\n')).toBe(3);
  });

  it(`examples/minimal-plugin is at most ${BUDGET} lines outside its tests`, () => {
    const files = authored(EXAMPLE);
    const counts = Object.fromEntries(files.map((f) => [relative(EXAMPLE, f), codeLines(readFileSync(f, 'utf8'))]));
    expect(Object.keys(counts).sort()).toEqual(['package.json', 'src/index.ts', 'tsconfig.json']);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total, JSON.stringify(counts)).toBeLessThanOrEqual(BUDGET);
  });

  it('and still is the whole path: typed config, one hook, a report, a metric, tests on @weir/testkit', () => {
    const src = readFileSync(join(EXAMPLE, 'src/index.ts'), 'utf8');
    for (const piece of ['definePlugin({', 'configSchema = z.strictObject(', 'ctx.hooks.on(', 'ctx.config.', 'ctx.report(', 'ctx.metric(']) expect(src, piece).toContain(piece);
    const pkg = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as { name: string; main: string; devDependencies: Record<string, string> };
    expect([pkg.name, pkg.main]).toEqual(['weir-plugin-drop-audit', './dist/index.js']);
    expect(pkg.devDependencies).toHaveProperty('@weir/testkit');
    const tests = readdirSync(join(EXAMPLE, 'test')).map((f) => readFileSync(join(EXAMPLE, 'test', f), 'utf8'));
    expect(tests.some((t) => t.includes("from '@weir/testkit'") && /\b(startWeir|startPluginStack)\(/.test(t))).toBe(true);
  });

  it('docs/plugins.md shows the plugin as its source has it', () => {
    const src = readFileSync(join(EXAMPLE, 'src/index.ts'), 'utf8');
    const plugin = /^export const DropAuditPlugin = definePlugin\(\{\n[\s\S]*?^\}\);\n/m.exec(src)?.[0];
    expect(plugin).toBeDefined();
    expect(readFileSync(join(EXAMPLE, '../../docs/plugins.md'), 'utf8')).toContain(`\`\`\`ts\n${plugin}\`\`\``);
  });
});
