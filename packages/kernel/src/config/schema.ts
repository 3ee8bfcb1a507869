import { z, type ZodType } from 'zod';
import { duration } from './duration.js';
import type { Config, GeneralConfig } from './types.js';

/** How weir's connections to PostgreSQL use TLS (libpq's sslmode values). */
export const serverTlsMode = z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
/** `secure` (TLS 1.2 and 1.3), `all`, `legacy`, or a comma list of tlsv1, tlsv1.1, tlsv1.2, tlsv1.3. */
export const tlsProtocols = z.string().regex(/^(secure|all|legacy|(tlsv1(\.[123])?)(\s*,\s*tlsv1(\.[123])?)*)$/i,
  'expected secure, all, legacy or a comma list of tlsv1, tlsv1.1, tlsv1.2, tlsv1.3');

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `general:` section. Unknown keys are errors (a typo is never silently ignored). */
export const generalSchema = z.preprocess((v) => {
  // server_connect_timeout is PgBouncer's name; connect_timeout stays as its alias.
  if (!isRecord(v) || !('server_connect_timeout' in v) || 'connect_timeout' in v) return v;
  const { server_connect_timeout, ...rest } = v;
  return { ...rest, connect_timeout: server_connect_timeout };
}, z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(6432),
  unix_socket_dir: z.string().min(1).optional(),
  admin_user: z.string().min(1).default('admin'),
  admin_password: z.string().default(''),
  connect_timeout: duration.default(5_000),
  query_wait_timeout: duration.default(120_000),
  idle_timeout: duration.default(600_000),
  server_lifetime: duration.default(3_600_000),
  shutdown_timeout: duration.default(10_000),
  client_login_timeout: duration.default(60_000),
  tls_certificate: z.string().min(1).optional(),
  tls_private_key: z.string().min(1).optional(),
  client_tls_sslmode: serverTlsMode.optional(),
  client_tls_ca_file: z.string().min(1).optional(),
  server_tls_sslmode: serverTlsMode.default('prefer'),
  server_tls_ca_file: z.string().min(1).optional(),
  server_tls_cert_file: z.string().min(1).optional(),
  server_tls_key_file: z.string().min(1).optional(),
  server_tls_protocols: tlsProtocols.default('secure'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  log_format: z.enum(['json', 'pretty']).default('json'),
  max_client_conn: z.number().int().min(1).default(1000),
  log_connections: z.boolean().default(true),
  log_disconnections: z.boolean().default(true),
  log_stats: z.boolean().default(true),
  stats_period: duration.refine((ms) => ms >= 1_000, 'stats_period must be at least 1s').default(60_000),
  metrics_port: z.number().int().min(0).max(65535).default(0),
  metrics_host: z.string().min(1).default('127.0.0.1'),
  max_db_connections: z.number().int().min(0).default(0),
  max_user_connections: z.number().int().min(0).default(0),
  reserve_pool_size: z.number().int().min(0).default(0),
  reserve_pool_timeout: duration.default(5_000),
  server_check_delay: duration.default(30_000),
  server_check_query: z.string().default('select 1'),
  query_timeout: duration.default(0),
  idle_transaction_timeout: duration.default(0),
  client_idle_timeout: duration.default(0),
  transaction_timeout: duration.default(0),
  server_connect_timeout: z.unknown().optional(),
}).superRefine((g, ctx) => {
  if (g.server_connect_timeout !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['server_connect_timeout'], message: 'set server_connect_timeout or its alias connect_timeout, not both' });
  }
  const mode = g.client_tls_sslmode;
  if ((mode === 'require' || mode === 'verify-ca' || mode === 'verify-full') && !(g.tls_certificate && g.tls_private_key)) {
    ctx.addIssue({ code: 'custom', path: ['client_tls_sslmode'], message: `client_tls_sslmode ${mode} needs tls_certificate and tls_private_key` });
  }
  if ((mode === 'verify-ca' || mode === 'verify-full') && !g.client_tls_ca_file) {
    ctx.addIssue({ code: 'custom', path: ['client_tls_ca_file'], message: `client_tls_sslmode ${mode} checks client certificates against client_tls_ca_file: set it` });
  }
}).transform(({ server_connect_timeout: _alias, ...g }) => ({
  ...g,
  // Default: TLS offered where a certificate is configured, as before this key existed.
  client_tls_sslmode: g.client_tls_sslmode ?? (g.tls_certificate && g.tls_private_key ? 'prefer' as const : 'disable' as const),
})));

const _general: ZodType<GeneralConfig> = generalSchema;
void _general;

/** A `plugins.<key>` section: `enabled` (default true) plus whatever the plugin validates. `key:` alone = enabled. */
export const pluginSectionSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.looseObject({ enabled: z.boolean().default(true) }),
);

/** The whole file. Pools are validated by `poolSchema` (the host's), loose by default. */
export function configSchema(poolSchema: ZodType = z.looseObject({})) {
  return z.strictObject({
    general: generalSchema.prefault({}),
    plugins: z.record(z.string(), pluginSectionSchema).default({}),
    pools: z.record(z.string(), poolSchema).default({}),
  });
}

/** The kernel's view of a config file (pools not checked beyond being objects). */
export const baseConfigSchema: ZodType<Config> = configSchema() as unknown as ZodType<Config>;
