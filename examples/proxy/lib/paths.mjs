// Where the example keeps its throwaway data: .data/ beside this example, unless we run as
// root and the postgres OS user could not reach it (then the system temp dir).
import { mkdirSync, mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedDirAbove } from './reach.mjs';

export const exampleDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** A fresh run directory every user (postgres included) can traverse. */
export function makeRunDir() {
  const isRoot = process.getuid?.() === 0;
  let parent = join(exampleDir, '.data');
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  if (isRoot && closedDirAbove(parent) !== undefined) parent = tmpdir();
  const dir = mkdtempSync(join(parent, 'run-'));
  chmodSync(dir, 0o755);
  return dir;
}
