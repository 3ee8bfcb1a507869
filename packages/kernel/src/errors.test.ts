import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClientError, ERROR_CATALOG, ERROR_FAMILIES, ErrorCodes, WeirError, clientErrorOf, isClientError } from './errors.js';
import { hookError } from './hooks.js';

const ROOT = resolve(__dirname, '../../..');
const CODE = /WEIR_E_[A-Z0-9_]*[A-Z0-9]/g;

/** Non-test TypeScript sources under packages/ and plugins/ (src only: dist is built from it). */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'fixtures') walk(p);
      } else if (/\.ts$/.test(e.name) && !/\.test(-d)?\.ts$|\.test-util\.ts$|\.test-d\.ts$/.test(e.name)) out.push(p);
    }
  };
  for (const top of ['packages', 'plugins']) {
    for (const pkg of readdirSync(join(ROOT, top), { withFileTypes: true })) {
      if (pkg.isDirectory()) {
        try {
          walk(join(ROOT, top, pkg.name, 'src'));
        } catch {
          // a package without src
        }
      }
    }
  }
  return out;
}

/** `file:line CODE` for every WEIR_E_ code in `text` that is neither in the catalog nor a family. */
function uncatalogued(file: string, text: string): string[] {
  const known = new Set<string>([...Object.keys(ERROR_CATALOG), ...Object.keys(ERROR_FAMILIES)]);
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(CODE)) if (!known.has(m[0])) out.push(`${file}:${i + 1} ${m[0]}`);
  });
  return out;
}

describe('the error catalog', () => {
  it('has every ErrorCodes value, each with a one-line doc', () => {
    expect(Object.keys(ERROR_CATALOG).sort()).toEqual(Object.values(ErrorCodes).sort());
    for (const [code, doc] of Object.entries(ERROR_CATALOG)) {
      expect(doc, code).toMatch(/^\S.{9,}$/);
      expect(doc, code).not.toContain('\n');
    }
  });

  it('the scan flags a code that is not in the catalog', () => {
    expect(uncatalogued('x.ts', "ok 'WEIR_E_HOOK_FAILED'\nthrow new WeirError('WEIR_E_NOT_A_REAL_CODE', 'x')\ncode.startsWith('WEIR_E_PROTO')"))
      .toEqual(['x.ts:2 WEIR_E_NOT_A_REAL_CODE']);
  });

  it('lists every WEIR_E_ code used in packages/ and plugins/ (non-test sources)', () => {
    const files = sources();
    expect(files.length).toBeGreaterThan(50);
    const problems = files.flatMap((f) => uncatalogued(relative(ROOT, f), readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });
});

describe('ClientError', () => {
  it('carries a SQLSTATE (typed, and in details for older readers) and is found under a hook wrapper', () => {
    const e = new ClientError(ErrorCodes.DYNAMIC_POOL_LIMIT, '53300', 'too many pools', { max: 2 });
    expect(e).toBeInstanceOf(WeirError);
    expect(e).toMatchObject({ code: 'WEIR_E_DYNAMIC_POOL_LIMIT', sqlstate: '53300', message: 'too many pools', details: { max: 2, sqlstate: '53300' } });
    expect(isClientError(e)).toBe(true);
    expect(clientErrorOf(e)).toBe(e);
    expect(clientErrorOf(hookError(e, 'p', 'resolvePool'))).toBe(e);
    expect(clientErrorOf(hookError(new Error('bug'), 'p', 'resolvePool'))).toBeUndefined();
    expect(clientErrorOf(new WeirError(ErrorCodes.NO_POOL, 'untyped', { sqlstate: '57P03' }))).toBeUndefined();
    // another copy of the kernel: same shape, other class
    expect(isClientError(Object.assign(new Error('x'), { code: 'WEIR_E_AUTH_QUERY_FAILED', sqlstate: '28000' }))).toBe(true);
  });
});
