import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPgBin, versionedBinDirs } from './find-pg-bin.js';

const root = mkdtempSync(join(tmpdir(), 'weir-findpg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeBin(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('findPgBin', () => {
  it('throws WEIR_E_TESTKIT_NO_POSTGRES naming where it looked and how to install', () => {
    let error: any;
    try {
      findPgBin('initdb', { pathDirs: [], versionRoots: [join(root, 'none')] });
    } catch (e) {
      error = e;
    }
    expect(error?.code).toBe('WEIR_E_TESTKIT_NO_POSTGRES');
    expect(error.message).toContain('"initdb"');
    expect(error.message).toContain('PATH (empty)');
    expect(error.message).toContain(`${join(root, 'none')}/*/bin`);
    expect(error.message).toContain('apt-get install postgresql');
  });

  it('prefers PATH, then the newest versioned bin dir', () => {
    const versions = join(root, 'versions');
    fakeBin(join(versions, '9.6', 'bin'), 'pg_ctl');
    const v15 = fakeBin(join(versions, '15', 'bin'), 'pg_ctl');
    fakeBin(join(versions, '10', 'bin'), 'pg_ctl');
    expect(versionedBinDirs([versions])[0]).toBe(join(versions, '15', 'bin'));
    expect(findPgBin('pg_ctl', { pathDirs: [join(root, 'empty')], versionRoots: [versions] })).toBe(v15);
    const onPath = fakeBin(join(root, 'path'), 'pg_ctl');
    expect(findPgBin('pg_ctl', { pathDirs: [join(root, 'path')], versionRoots: [versions] })).toBe(onPath);
  });

  it('skips files that are not executable', () => {
    const dir = join(root, 'noexec');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'psql'), '');
    expect(() => findPgBin('psql', { pathDirs: [dir], versionRoots: [] })).toThrow(/WEIR_E_TESTKIT_NO_POSTGRES/);
  });
});
