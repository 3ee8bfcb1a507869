/** The README's example, run as written (its import of '@weir/kernel' pointed at this package's source). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';

it('the README example runs', async () => {
  const here = __dirname;
  const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const dir = join(here, '..', '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-example.ts');
  writeFileSync(file, code!.replace("from '@weir/kernel'", "from '../src/index.js'"));
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const mod = (await import(/* @vite-ignore */ file)) as { main: () => Promise<number> };
    expect(await mod.main()).toBe(2);
    expect(log).toHaveBeenCalledWith('checkouts seen by the plugin:', 2);
  } finally {
    log.mockRestore();
  }
});
