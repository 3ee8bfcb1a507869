import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TestkitError } from './errors.js';

/** Where {@link findPgBin} looks. Both parts are injectable for tests. */
export interface PgBinSearch {
  /** Directories searched first, in order. Default: `$WEIR_PG_BIN` (if set), then `$PATH`. */
  pathDirs?: string[];
  /** Roots holding `<version>/bin` (Debian layout). Default: `['/usr/lib/postgresql']`. */
  versionRoots?: string[];
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function defaultPathDirs(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const pinned = process.env.WEIR_PG_BIN;
  return pinned ? [pinned, ...dirs] : dirs;
}

/** `<root>/<version>/bin` directories, newest version first. */
export function versionedBinDirs(roots: string[]): string[] {
  const found: { version: number[]; dir: string }[] = [];
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!/^\d+(\.\d+)*$/.test(entry)) continue;
      found.push({ version: entry.split('.').map(Number), dir: join(root, entry, 'bin') });
    }
  }
  found.sort((a, b) => {
    for (let i = 0; i < Math.max(a.version.length, b.version.length); i++) {
      const d = (b.version[i] ?? 0) - (a.version[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
  return found.map((f) => f.dir);
}

/**
 * Absolute path of a PostgreSQL program (`initdb`, `pg_ctl`, `psql`, `pgbench`, …):
 * searched on `$WEIR_PG_BIN` and `$PATH`, then in `/usr/lib/postgresql/<version>/bin`
 * (newest first). Throws `WEIR_E_TESTKIT_NO_POSTGRES` naming every place it looked.
 */
export function findPgBin(name: string, search: PgBinSearch = {}): string {
  const pathDirs = search.pathDirs ?? defaultPathDirs();
  const roots = search.versionRoots ?? ['/usr/lib/postgresql'];
  for (const dir of [...pathDirs, ...versionedBinDirs(roots)]) {
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  const looked = [
    pathDirs.length ? `PATH (${pathDirs.join(delimiter)})` : 'PATH (empty)',
    ...roots.map((r) => `${r}/*/bin`),
  ];
  throw new TestkitError(
    'WEIR_E_TESTKIT_NO_POSTGRES',
    `PostgreSQL program "${name}" not found. Looked in: ${looked.join('; ')}. ` +
      'Install the PostgreSQL server binaries (Debian/Ubuntu: `apt-get install postgresql`; ' +
      'macOS: `brew install postgresql`), or set WEIR_PG_BIN to the directory holding them.',
  );
}
