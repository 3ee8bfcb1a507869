import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configReference, generatedDocs, weirJsonSchema, type JsonSchema } from './docs.js';
import { RELOADABLE } from './reloadable.js';

const root = path.join(__dirname, '..', '..', '..');

/** A small JSON Schema check (the keywords weir's schema uses): the paths that do not fit. */
function mismatches(s: JsonSchema, v: unknown, at = ''): string[] {
  if (s.anyOf) return s.anyOf.some((o) => mismatches(o, v, at).length === 0) ? [] : [`${at}: matches no alternative`];
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  const kind = v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  if (types.length > 0 && !types.includes(kind) && !(kind === 'integer' && types.includes('number'))) return [`${at}: ${kind} is not ${types.join('/')}`];
  if (s.enum && !s.enum.includes(v)) return [`${at}: ${String(v)} not in enum`];
  const out: string[] = [];
  if (kind === 'array' && s.items) (v as unknown[]).forEach((item, i) => out.push(...mismatches(s.items!, item, `${at}[${i}]`)));
  if (kind === 'object') {
    const obj = v as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in obj)) out.push(`${at}.${key}: required`);
    for (const [key, value] of Object.entries(obj)) {
      const prop = s.properties?.[key] ?? s.additionalProperties;
      if (prop === false) out.push(`${at}.${key}: not allowed`);
      else if (typeof prop === 'object') out.push(...mismatches(prop, value, `${at}.${key}`));
    }
  }
  return out;
}

describe('the config JSON Schema', () => {
  const schema = weirJsonSchema();
  const pool = schema.properties!.pools!.additionalProperties as JsonSchema;

  it('is draft 2020-12 JSON, strict in every section', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties!.general!.additionalProperties).toBe(false);
    expect(pool.additionalProperties).toBe(false);
    expect(pool.properties!.users!.items!.additionalProperties).toBe(false);
    expect(pool.properties!.auth_query!.additionalProperties).toBe(false);
    for (const key of ['auth_query', 'dynamic_pools', 'idle_gc', 'prepared_statements']) {
      const section = schema.properties!.plugins!.properties![key]!.anyOf![0]!;
      expect(section.additionalProperties, key).toBe(false);
      expect(section.properties!.enabled, key).toMatchObject({ type: 'boolean', default: true });
    }
  });

  it('knows every pool key, the newer ones included', () => {
    expect(Object.keys(pool.properties!).sort()).toEqual([
      'auth_query', 'auth_type', 'max_db_connections', 'min_pool_size', 'pool_mode', 'pool_size', 'reserve_pool_size',
      'server_database', 'server_host', 'server_port', 'server_tls_ca_file', 'server_tls_cert_file', 'server_tls_key_file',
      'server_tls_protocols', 'server_tls_sslmode', 'users',
    ]);
  });

  it('gives durations and sizes as string or number, with the input default and a description', () => {
    const general = schema.properties!.general!.properties!;
    expect(general.idle_timeout).toMatchObject({ type: ['string', 'number'], default: '10m', 'x-weir-type': 'duration' });
    expect(general.idle_timeout!.description).toMatch(/idle/);
    const ps = schema.properties!.plugins!.properties!.prepared_statements!.anyOf![0]!.properties!;
    expect(ps.max_statement_bytes).toMatchObject({ type: ['string', 'number'], default: '64MB', 'x-weir-type': 'size' });
  });

  it('accepts the example config and rejects typos in it', () => {
    const example = parse(readFileSync(path.join(root, 'examples/proxy/weir.yaml'), 'utf8')) as Record<string, any>;
    expect(mismatches(schema, example)).toEqual([]);
    example.pools.appdb.pool_szie = 5;
    example.general.idle_timeout = true;
    example.plugins.idle_gc.intervl = '1s';
    expect(mismatches(schema, example).sort()).toEqual([
      '.general.idle_timeout: boolean is not string/number',
      '.plugins.idle_gc: matches no alternative',
      '.pools.appdb.pool_szie: not allowed',
    ]);
  });

  it('describes every key', () => {
    const undescribed: string[] = [];
    const walk = (s: JsonSchema, at: string): void => {
      for (const [key, prop] of Object.entries(s.properties ?? {})) {
        if (!prop.description) undescribed.push(`${at}.${key}`);
        walk(prop, `${at}.${key}`);
      }
      for (const inner of [s.items, ...(s.anyOf ?? []), s.additionalProperties]) if (typeof inner === 'object') walk(inner, `${at}.*`);
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
  });
});

describe('docs/config.md and docs/weir.schema.json', () => {
  it('are what `npm run docs:config` writes (regenerate them when this fails)', () => {
    for (const { path: rel, text } of generatedDocs()) {
      expect(readFileSync(path.join(root, rel), 'utf8'), rel).toBe(text);
    }
  });

  it('list every key with its type and default', () => {
    const md = configReference();
    expect(md).toContain('| `pool_size` | integer | `20` |');
    expect(md).toContain('| `idle_timeout` | duration | `10m` |');
    expect(md).toContain('| `pool_mode` | `transaction` \\| `session` | `transaction` |');
    expect(md).toContain('| `username` | string | required |');
    expect(md).toContain('## `pools.<name>.auth_query`');
    expect(md).toContain('# yaml-language-server: $schema=');
  });

  it('say for every key whether RELOAD applies it', () => {
    const md = configReference();
    expect(md).toContain('| `port` | integer | `6432` | no (restart) |');
    expect(md).toContain('| `log_pooler_errors` | boolean | `true` | yes |');
    expect(md).toContain('| `pool_mode` | `transaction` \\| `session` | `transaction` | new clients |');
    expect(md).toContain('| `server_host` | string | `127.0.0.1` | new server connections |');
  });

  it('refuse a key with no reloadable marking, and a marking that names no key', () => {
    const schema = weirJsonSchema();
    schema.properties!.general!.properties!.new_key = { type: 'boolean', description: 'A key added without a marking.' };
    expect(() => configReference(schema)).toThrow(/no reloadable marking .* for: general\.new_key$/);
    expect(() => configReference(weirJsonSchema(), { ...RELOADABLE, 'general.gone': 'yes' })).toThrow(/do not exist: general\.gone$/);
  });
});
