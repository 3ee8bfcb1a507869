/**
 * `weir check` and `weir schema` through the built CLI (issue 14, items 4 and 6): every typo in
 * one run, each with file:line, key path and a did-you-mean; a misspelled pool key is refused as
 * a misspelled general key is; `weir schema` prints JSON Schema that pins pools down.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultWeirBin } from '@weir/testkit';
import { run } from './helpers.js';

const weir = (...args: string[]) => run(process.execPath, [defaultWeirBin(), ...args]);

describe('weir check', () => {
  it('reports every typo in one run, with its line, key path and the key meant', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-check-'));
    const file = path.join(dir, 'weir.yaml');
    writeFileSync(file, [
      'general:',
      '  port: 6432',
      '  log_levle: info',
      'plugins:',
      '  prepared_statements:',
      '    enabled: true',
      '    max_per_conection: 10',
      'pools:',
      '  appdb:',
      '    sever_host: 10.9.9.9',
      '    pool_szie: 5',
      '    users: [{ username: a, password: b }]',
      '',
    ].join('\n'));
    const r = await weir('check', '--config', file);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${file}:3: general.log_levle: unknown key, did you mean \`log_level\`? [WEIR_E_CONFIG_INVALID]`,
      `${file}:7: plugins.prepared_statements.max_per_conection: unknown key, did you mean \`max_per_connection\`? [WEIR_E_CONFIG_INVALID]`,
      `${file}:10: pools.appdb.sever_host: unknown key, did you mean \`server_host\`? [WEIR_E_CONFIG_INVALID]`,
      `${file}:11: pools.appdb.pool_szie: unknown key, did you mean \`pool_size\`? [WEIR_E_CONFIG_INVALID]`,
      `${file}: 4 problems`,
    ]);
    const start = await weir('start', '--config', file);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toContain('pool_szie');
  });
});

describe('weir schema', () => {
  it('prints JSON Schema of the whole config; pools and users take no unknown key', async () => {
    const r = await weir('schema');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['general', 'plugins', 'pools']));
    const pool = s.properties.pools.additionalProperties;
    expect(pool.additionalProperties).toBe(false);
    expect(Object.keys(pool.properties)).toEqual(expect.arrayContaining(['server_host', 'pool_size', 'max_db_connections', 'server_tls_sslmode', 'users']));
    expect(s.properties.general.additionalProperties).toBe(false);
    expect(s.properties.general.properties.log_format.enum).toEqual(['json', 'pretty']);
  });
});
