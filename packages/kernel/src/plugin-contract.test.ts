/** The built-in plugins and the example plugins use only the v2 plugin context (docs/plugins.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
/** v1: kernel services injected one by one, the whole Kernel, its container, the host's REPORTS. */
const V1 = /TOKENS\.(Kernel|Hooks|PluginConfig|Logger|Clock|Config|PoolRegistry|PoolFactory|Metrics)\b|kernel\.container\b|\bREPORTS\b/;

function v1Uses(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => (V1.test(line) ? [`${file}:${i + 1} ${line.trim()}`] : []));
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.ts$/.test(e.name) && !/\.test(-d)?\.ts$|\.test-util\.ts$/.test(e.name) ? [p] : [];
  });
}

describe('plugins use only their context', () => {
  it('the check flags v1 injection', () => {
    expect(v1Uses('x.ts', 'ok(ctx.hooks)\n@inject(TOKENS.Kernel) private readonly kernel: Kernel,\nthis.kernel.container.register(T, v)')).toHaveLength(2);
  });

  it('no built-in plugin, nor an example, injects kernel services or the Kernel', () => {
    const dirs = [
      ...readdirSync(join(ROOT, 'plugins')).map((p) => join(ROOT, 'plugins', p, 'src')),
      join(ROOT, 'examples', 'custom-plugin', 'src'),
      join(ROOT, 'examples', 'minimal-plugin', 'src'),
    ];
    const files = dirs.flatMap(sources);
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((f) => v1Uses(relative(ROOT, f), readFileSync(f, 'utf8')))).toEqual([]);
  });
});
