import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { checkConfigFile } from './check.js';

const good = `general:
  port: 6432
plugins:
  idle_gc: { interval: 30s }
  dynamic_pools: {}
pools:
  appdb:
    server_host: 127.0.0.1
    users:
      - username: app
        password: secret
`;

describe('checkConfigFile', () => {
  it('says ok with the pools and plugins of a valid file', () => {
    expect(checkConfigFile('/x/weir.yaml', good)).toEqual({ code: 0, out: ['/x/weir.yaml: ok (1 pool; plugins: idle_gc, dynamic_pools)'], err: [] });
  });

  it('lists every problem in one run, by line, each with its code', () => {
    const text = good
      .replace('  port: 6432\n', '  port: 6432\n  idle_timout: 5m\n')
      .replace('interval: 30s', 'intervl: 30s')
      .replace('    server_host: 127.0.0.1\n', '    server_host: 127.0.0.1\n    pool_szie: 5\n    sever_host: 10.9.9.9\n')
      .replace('dynamic_pools: {}', 'dynamic_pols: {}');
    const r = checkConfigFile('/x/weir.yaml', text);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      '/x/weir.yaml:3: general.idle_timout: unknown key, did you mean `idle_timeout`? [WEIR_E_CONFIG_INVALID]',
      '/x/weir.yaml:5: plugins.idle_gc.intervl: unknown key, did you mean `interval`? [WEIR_E_CONFIG_INVALID]',
      expect.stringMatching(/^\/x\/weir\.yaml:6: plugins\.dynamic_pols: no built-in plugin and no npm package .*, did you mean `dynamic_pools`\? \[WEIR_E_PLUGIN_NOT_FOUND\]$/),
      '/x/weir.yaml:10: pools.appdb.pool_szie: unknown key, did you mean `pool_size`? [WEIR_E_CONFIG_INVALID]',
      '/x/weir.yaml:11: pools.appdb.sever_host: unknown key, did you mean `server_host`? [WEIR_E_CONFIG_INVALID]',
      '/x/weir.yaml: 5 problems',
    ]);
  });

  it('allows a plugin pool key only when that plugin is known and enabled', () => {
    const section = '    auth_query: { query: "select usename, passwd from pg_shadow where usename = $1", user: lookup }\n';
    const withSection = good.replace('    users:\n', `${section}    users:\n`);
    const off = checkConfigFile('/x/weir.yaml', withSection);
    expect(off.err[0]).toBe('/x/weir.yaml:9: pools.appdb.auth_query: section of plugin @weir/plugin-auth-query, which is disabled (enable it under plugins.auth_query) [WEIR_E_PLUGIN_DISABLED_CONFIG]');
    const on = checkConfigFile('/x/weir.yaml', withSection.replace('plugins:\n', 'plugins:\n  auth_query: {}\n'));
    expect(on.code).toBe(0);
    const typo = checkConfigFile('/x/weir.yaml', withSection.replace('auth_query: {', 'auth_qeury: {'));
    expect(typo.err[0]).toBe('/x/weir.yaml:9: pools.appdb.auth_qeury: unknown key, did you mean `auth_query`? [WEIR_E_CONFIG_INVALID]');
  });

  it('checks a plugin section even when general is broken, and a bad value inside a plugin pool section', () => {
    const text = good.replace('port: 6432', 'port: banana').replace('plugins:\n', 'plugins:\n  auth_query: {}\n')
      .replace('    users:\n', '    auth_query: { query: "select 1", user: lookup, cache_ttl: forever }\n    users:\n');
    const r = checkConfigFile('/x/weir.yaml', text);
    expect(r.err.map((l) => l.replace(/: .*/, ''))).toEqual([
      '/x/weir.yaml:2', '/x/weir.yaml:10', '/x/weir.yaml:10', '/x/weir.yaml',
    ]);
    expect(r.err[1]).toMatch(/pools\.appdb\.auth_query\.(query|cache_ttl)/);
    expect(r.err[2]).toMatch(/pools\.appdb\.auth_query\.(query|cache_ttl)/);
  });
});
