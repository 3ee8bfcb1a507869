import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z, type ZodType } from 'zod';
import type { Config } from './types.js';
import { WeirError } from '../errors.js';
import { diffConfig } from './diff.js';
import { duration, parseDuration } from './duration.js';
import { interpolateEnv } from './env.js';
import { loadConfigFile, parseConfig } from './parse.js';
import { baseConfigSchema, configSchema, generalSchema, generalShape } from './schema.js';
import { parseSize, size } from './size.js';

function configError(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error('expected an error');
}

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    [' 2 s ', 2_000],
    ['250', 250],
    [0, 0],
    [1234, 1234],
  ])('%j → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
    expect(duration.parse(input)).toBe(ms);
  });

  it.each(['', 'abc', '10x', '-5s', 's', '1 hour', '5mss'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeUndefined();
    expect(duration.safeParse(input).success).toBe(false);
  });

  it('rejects non-numbers, negatives and non-finite numbers', () => {
    for (const v of [-1, Number.NaN, Infinity, true, null, {}]) expect(parseDuration(v)).toBeUndefined();
  });

  it('any count of any unit is that many milliseconds', () => {
    const units = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    fc.assert(
      fc.property(fc.nat(100_000), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (n, unit) => {
        expect(parseDuration(`${n}${unit}`)).toBe(n * units[unit]);
      }),
    );
  });
});

describe('sizes', () => {
  it.each([
    ['64KB', 65_536],
    ['1MB', 1_048_576],
    ['1mb', 1_048_576],
    ['2GiB', 2 * 1024 ** 3],
    ['512B', 512],
    ['512', 512],
    ['1.5KB', 1536],
    [8192, 8192],
  ])('%j → %i bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
    expect(size.parse(input)).toBe(bytes);
  });

  it.each(['', 'KB', '10XB', '-1KB', 'one MB'])('rejects %j', (input) => {
    expect(parseSize(input)).toBeUndefined();
    expect(size.safeParse(input).success).toBe(false);
  });
});

describe('interpolateEnv', () => {
  const env = { HOST: 'db.internal', PORT: '5433', EMPTY: '' };

  it('replaces ${VAR} and ${VAR:-default}', () => {
    expect(interpolateEnv('postgres://${HOST}:${PORT}/x', env)).toBe('postgres://db.internal:5433/x');
    expect(interpolateEnv('${MISSING:-fallback}', env)).toBe('fallback');
    expect(interpolateEnv('${EMPTY:-fallback}', env)).toBe('fallback');
    expect(interpolateEnv('${EMPTY}', env)).toBe('');
    expect(interpolateEnv('no refs $HOST', env)).toBe('no refs $HOST');
  });

  it('keeps $${VAR} literal', () => {
    expect(interpolateEnv('cost $${HOST}', env)).toBe('cost ${HOST}');
  });

  it('names a missing variable', () => {
    const err = configError(() => interpolateEnv('${DB_PASSWORD}', env));
    expect(err.code).toBe('WEIR_E_CONFIG_INVALID');
    expect(err.message).toContain('DB_PASSWORD');
    expect(err.details.variable).toBe('DB_PASSWORD');
  });

  it('rejects malformed references', () => {
    expect(configError(() => interpolateEnv('${1BAD}', env)).code).toBe('WEIR_E_CONFIG_INVALID');
    expect(configError(() => interpolateEnv('${HOST', env)).message).toContain('unterminated');
  });
});

/**
 * What a host does: its own `general` keys around the kernel's (generalShape). The loader is
 * tested through it; the kernel's own `general` holds only the keys every host uses.
 */
const hostGeneral = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(6432),
  admin_password: z.string().default(''),
  log_level: z.string().default('info'),
  ...generalShape,
});
const hostSchema = configSchema(z.looseObject({}), hostGeneral) as unknown as ZodType<Config & { general: z.output<typeof hostGeneral> }>;

const sample = `# weir
general:
  host: 127.0.0.1
  port: 6432
  idle_timeout: 10m
plugins:
  idle_gc: { enabled: true, interval: 30s }
pools:
  appdb:
    server_host: 127.0.0.1
    users:
      - username: app
        password: secret
`;

describe('parseConfig', () => {
  it('parses a config with defaults and units', () => {
    const cfg = parseConfig(sample, hostSchema, 'weir.yaml');
    expect(cfg.general).toMatchObject({ host: '127.0.0.1', port: 6432, idle_timeout: 600_000, connect_timeout: 5_000, log_level: 'info' });
    expect(cfg.plugins.idle_gc).toEqual({ enabled: true, interval: '30s' });
    expect(cfg.pools.appdb.users[0].username).toBe('app');
  });

  it('an empty file is all defaults', () => {
    const cfg = parseConfig('', hostSchema);
    expect(cfg.general.port).toBe(6432);
    expect(cfg.plugins).toEqual({});
    expect(cfg.pools).toEqual({});
  });

  it('a bare plugin key means enabled', () => {
    expect(parseConfig('plugins:\n  auth_query:\n', hostSchema).plugins.auth_query).toEqual({ enabled: true });
  });

  it('names file, line and key path of a wrong value', () => {
    const text = sample.replace('port: 6432', 'port: "x"');
    const err = configError(() => parseConfig(text, hostSchema, 'weir.yaml'));
    expect(err.code).toBe('WEIR_E_CONFIG_INVALID');
    expect(err.message).toMatch(/^weir\.yaml:4: general\.port: /);
    expect(err.details).toMatchObject({ file: 'weir.yaml', path: 'general.port', line: 4 });
  });

  it('names the line of a bad duration deep in the file', () => {
    const text = sample.replace('idle_timeout: 10m', 'idle_timeout: 10 minutes');
    expect(configError(() => parseConfig(text, hostSchema, 'weir.yaml')).message).toMatch(/^weir\.yaml:5: general\.idle_timeout: expected a duration/);
  });

  it('names an unknown key and its line', () => {
    const text = sample.replace('  port: 6432\n', '  port: 6432\n  prot: 1\n');
    const err = configError(() => parseConfig(text, hostSchema, 'weir.yaml'));
    expect(err.message).toBe('weir.yaml:5: general.prot: unknown key, did you mean `port`?');
  });

  it('names an unknown key far from every known one without a guess', () => {
    const text = sample.replace('  port: 6432\n', '  port: 6432\n  colour: blue\n');
    expect(configError(() => parseConfig(text, hostSchema, 'weir.yaml')).message).toBe('weir.yaml:5: general.colour: unknown key');
  });

  it('suggests keys of a pool and of its users, all problems in one error', () => {
    const pool = z.strictObject({
      server_host: z.string(),
      pool_size: z.number().default(1),
      users: z.array(z.strictObject({ username: z.string(), password: z.string() })),
    });
    const text = sample.replace('server_host:', 'sever_host: x\n    server_host:').replace('password: secret', 'pasword: secret\n        password: secret');
    const err = configError(() => parseConfig(text, configSchema(pool, hostGeneral), 'weir.yaml'));
    expect(err.message.split('\n')).toEqual([
      'weir.yaml:10: pools.appdb.sever_host: unknown key, did you mean `server_host`?',
      'weir.yaml:14: pools.appdb.users[0].pasword: unknown key, did you mean `password`?',
    ]);
  });

  it('lists every problem, one per line, with array indices in paths', () => {
    const pool = z.strictObject({
      server_host: z.string(),
      users: z.array(z.strictObject({ username: z.string(), password: z.string(), pool_size: z.number().optional() })),
    });
    const text = sample.replace('password: secret', 'password: 42').replace('port: 6432', 'port: -1');
    const err = configError(() => parseConfig(text, configSchema(pool, hostGeneral), 'weir.yaml'));
    expect(err.message.split('\n')).toEqual([
      expect.stringMatching(/^weir\.yaml:4: general\.port: /),
      expect.stringMatching(/^weir\.yaml:13: pools\.appdb\.users\[0\]\.password: /),
    ]);
  });

  it('points a missing key at its parent', () => {
    const pool = z.strictObject({ server_host: z.string(), server_port: z.number(), users: z.array(z.unknown()) });
    const err = configError(() => parseConfig(sample, configSchema(pool, hostGeneral), 'weir.yaml'));
    expect(err.message).toMatch(/^weir\.yaml:9: pools\.appdb\.server_port: /);
  });

  it('reports YAML syntax errors with their line', () => {
    const err = configError(() => parseConfig('general:\n  port: 1\n  - x\n', hostSchema, 'bad.yaml'));
    expect(err.code).toBe('WEIR_E_CONFIG_INVALID');
    expect(err.message).toMatch(/^bad\.yaml:3: yaml: /);
  });

  it('reports duplicate keys', () => {
    expect(configError(() => parseConfig('general:\n  port: 1\n  port: 2\n', hostSchema, 'dup.yaml')).message).toMatch(/^dup\.yaml:3: yaml: /);
  });

  it('interpolates ${ENV} in values: plain scalars are typed again, quoted stay strings', () => {
    const text = 'general:\n  port: ${PORT}\n  admin_password: "${PW}"\n  host: ${HOST:-localhost}\n';
    const cfg = parseConfig(text, hostSchema, 'env.yaml', { PORT: '7000', PW: '123' });
    expect(cfg.general).toMatchObject({ port: 7000, admin_password: '123', host: 'localhost' });
  });

  it('names the variable, key path and line of a missing ${ENV}', () => {
    const text = 'general:\n  host: x\n  admin_password: ${ADMIN_PW}\n';
    const err = configError(() => parseConfig(text, hostSchema, 'env.yaml', {}));
    expect(err.message).toBe('env.yaml:3: general.admin_password: environment variable ADMIN_PW is not set');
    expect(err.details).toMatchObject({ path: 'general.admin_password', line: 3 });
  });

  it('loadConfigFile reads, validates and records the file; unreadable is WEIR_E_CONFIG_READ', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-cfg-'));
    const file = join(dir, 'weir.yaml');
    writeFileSync(file, sample);
    const cfg = loadConfigFile(file, hostSchema);
    expect(cfg.file).toBe(file);
    expect(cfg.general.port).toBe(6432);
    const err = configError(() => loadConfigFile(join(dir, 'missing.yaml'), hostSchema));
    expect(err.code).toBe('WEIR_E_CONFIG_READ');
    expect(err.message).toContain('missing.yaml');
    writeFileSync(file, 'general:\n  port: nope\n');
    expect(configError(() => loadConfigFile(file, hostSchema)).message).toContain(`${file}:2: general.port`);
  });

  it("the kernel's general holds the keys every host uses, with their defaults; a host's key is unknown to it", () => {
    expect(generalSchema.parse({})).toEqual({ connect_timeout: 5_000, query_wait_timeout: 120_000, idle_timeout: 600_000, server_lifetime: 3_600_000 });
    expect(parseConfig('', baseConfigSchema).general).toEqual(generalSchema.parse({}));
    expect(configError(() => parseConfig('general:\n  port: 6432\n', baseConfigSchema, 'k.yaml')).message).toBe('k.yaml:2: general.port: unknown key');
    expect(generalSchema.safeParse({ query_wait_timeout: 'soon' }).success).toBe(false);
  });
});

describe('diffConfig', () => {
  const base = () => parseConfig(sample, hostSchema, 'weir.yaml');

  it('finds nothing between equal configs (the file name aside)', () => {
    expect(diffConfig(base(), { ...base(), file: 'other.yaml' })).toEqual({ changed: [], poolsAdded: [], poolsRemoved: [], poolsChanged: [] });
  });

  it('names changed key paths and pools added, removed and changed', () => {
    const prev = base();
    const next = base();
    next.general.idle_timeout = 1;
    next.pools.appdb.users[0].password = 'other';
    next.pools.appdb.auth_query = { query: 'SELECT 1' };
    next.pools.newdb = { server_host: 'h' };
    prev.pools.olddb = { server_host: 'h' };
    delete next.plugins.idle_gc;
    const diff = diffConfig(prev, next);
    expect(diff.changed.sort()).toEqual(
      [
        'general.idle_timeout',
        'plugins.idle_gc',
        'pools.appdb.users[0].password',
        'pools.appdb.auth_query',
        'pools.newdb',
        'pools.olddb',
      ].sort(),
    );
    expect(diff.poolsAdded).toEqual(['newdb']);
    expect(diff.poolsRemoved).toEqual(['olddb']);
    expect(diff.poolsChanged).toEqual(['appdb']);
  });

  it('a config never differs from a copy of itself, and any change to a leaf is found', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), json), fc.string({ minLength: 1, maxLength: 4 }), (pools, name) => {
        const cfg = { general: { port: 1 }, plugins: {}, pools };
        expect(diffConfig(cfg, structuredClone(cfg)).changed).toEqual([]);
        const next = structuredClone(cfg);
        (next.pools as Record<string, unknown>)[name] = { marker: Symbol.keyFor(Symbol.for('x')) + String(Math.random()) };
        const diff = diffConfig(cfg, next);
        expect(diff.changed.some((p) => p.startsWith(`pools.${name}`))).toBe(true);
        expect([...diff.poolsAdded, ...diff.poolsChanged]).toContain(name);
      }),
    );
  });
});
