import { chownSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pgOsUser } from './run.js';

/** Settings every throwaway cluster gets; `startCluster({ settings })` overrides them. */
export const DEFAULT_SETTINGS: Readonly<Record<string, string>> = {
  max_connections: '300',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  shared_buffers: '32MB',
  password_encryption: 'scram-sha-256',
};

export const HBA_CONF = [
  '# written by @weir/testkit',
  '# TYPE  DATABASE USER ADDRESS      METHOD',
  'local   all      all               trust',
  'host    all      all  127.0.0.1/32 md5',
  'host    all      all  ::1/128      md5',
  '',
].join('\n');

/** True if every ancestor of `dir` can be traversed by other users (mode o+x). */
function traversableByOthers(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

/** A fresh temp dir, owned by the OS user PostgreSQL runs as. */
export function makeBaseDir(name: string): string {
  const user = pgOsUser();
  let parent = tmpdir();
  if (user.asRoot && !traversableByOthers(parent)) parent = '/tmp';
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  const base = mkdtempSync(join(parent, `weir-pg-${safe}-`));
  if (user.asRoot) chownSync(base, user.uid, user.gid);
  return base;
}

/** Write a file readable by the PostgreSQL OS user. */
export function writeOwned(file: string, text: string, mode = 0o600): void {
  writeFileSync(file, text, { mode });
  const user = pgOsUser();
  if (user.asRoot) chownSync(file, user.uid, user.gid);
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** postgresql.conf include with our settings; later keys win. */
export function settingsFile(settings: Record<string, string>): string {
  const lines = ['# written by @weir/testkit'];
  for (const [key, value] of Object.entries(settings)) lines.push(`${key} = ${quote(value)}`);
  return `${lines.join('\n')}\n`;
}
