import { describe, expect, it } from 'vitest';
import { generalSchema } from '@weir/kernel';
import { proxyGeneralSchema } from './general.js';

describe("the proxy's general section", () => {
  it("holds the kernel's keys and the proxy's own, every one with its default", () => {
    const parsed = proxyGeneralSchema.parse({});
    expect(parsed).toMatchObject(generalSchema.parse({}));
    expect(parsed).toEqual({
      host: '127.0.0.1',
      port: 6432,
      io: 'native',
      so_reuseport: false,
      admin_user: 'admin',
      admin_password: '',
      connect_timeout: 5_000,
      query_wait_timeout: 120_000,
      idle_timeout: 600_000,
      server_lifetime: 3_600_000,
      shutdown_timeout: 10_000,
      client_login_timeout: 60_000,
      log_level: 'info',
      log_format: 'json',
      max_client_conn: 1000,
      client_tls_sslmode: 'disable',
      server_tls_sslmode: 'prefer',
      server_tls_protocols: 'secure',
      log_connections: true,
      log_disconnections: true,
      log_stats: true,
      log_pooler_errors: true,
      stats_period: 60_000,
      metrics_port: 0,
      metrics_host: '127.0.0.1',
      max_db_connections: 0,
      max_user_connections: 0,
      reserve_pool_size: 0,
      reserve_pool_timeout: 5_000,
      server_check_delay: 30_000,
      server_check_query: 'select 1',
      query_timeout: 0,
      idle_transaction_timeout: 0,
      client_idle_timeout: 0,
      transaction_timeout: 0,
    });
  });

  it("server_connect_timeout is connect_timeout under PgBouncer's name; not both", () => {
    expect(proxyGeneralSchema.parse({ server_connect_timeout: '2s' }).connect_timeout).toBe(2_000);
    expect(proxyGeneralSchema.parse({ connect_timeout: '3s' }).connect_timeout).toBe(3_000);
    expect('server_connect_timeout' in proxyGeneralSchema.parse({ server_connect_timeout: '2s' })).toBe(false);
    const both = proxyGeneralSchema.safeParse({ server_connect_timeout: '2s', connect_timeout: '3s' });
    expect(both.success).toBe(false);
    expect(JSON.stringify(both.error?.issues)).toContain('not both');
    expect(proxyGeneralSchema.safeParse({ query_timeout: 'soon' }).success).toBe(false);
  });
});
