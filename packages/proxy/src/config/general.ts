import { z, type ZodType } from 'zod';
import { duration, generalShape, serverTlsMode, tlsProtocols, type GeneralConfig } from '@weir/kernel';

/** The proxy's parsed `general:` section: durations in milliseconds. */
export interface ProxyGeneralConfig extends GeneralConfig {
  host: string;
  port: number;
  /** Data path: native (@weir/io, where it loaded) or node (node:net). */
  io: 'native' | 'node';
  /** SO_REUSEPORT on the TCP listener: several weir processes share host:port (rolling restart). */
  so_reuseport: boolean;
  unix_socket_dir?: string;
  admin_user: string;
  admin_password: string;
  shutdown_timeout: number;
  client_login_timeout: number;
  tls_certificate?: string;
  tls_private_key?: string;
  /** TLS from clients: prefer where tls_certificate is set, else disable; require refuses plaintext; verify-* check client certificates. */
  client_tls_sslmode: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  client_tls_ca_file?: string;
  /** TLS to PostgreSQL: disable, allow, prefer (default), require, verify-ca, verify-full. */
  server_tls_sslmode: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  server_tls_ca_file?: string;
  server_tls_cert_file?: string;
  server_tls_key_file?: string;
  server_tls_protocols: string;
  log_level: string;
  /** json (one object per line) or pretty (one readable line); read at start. */
  log_format: 'json' | 'pretty';
  max_client_conn: number;
  /** Info lines for each login and each disconnect of a logged-in client (address, user, database, duration, reason). */
  log_connections: boolean;
  log_disconnections: boolean;
  /** A line per database with traffic every stats_period, as PgBouncer's. */
  log_stats: boolean;
  /** A line for each error weir itself sends a client (address, user, database, SQLSTATE, message), as PgBouncer's. */
  log_pooler_errors: boolean;
  /** How often SHOW STATS averages are computed (over the period before). */
  stats_period: number;
  /** Prometheus /metrics and /healthz over HTTP on metrics_host (0 = off). */
  metrics_port: number;
  metrics_host: string;
  /** Server connections to one database, across all its pools (0 = no cap; a pool may override). */
  max_db_connections: number;
  /** Server connections logged in as one user, across all pools (0 = no cap). */
  max_user_connections: number;
  /** Connections a pool may open past its size for clients that waited reserve_pool_timeout. */
  reserve_pool_size: number;
  reserve_pool_timeout: number;
  /** A server connection idle this long runs server_check_query before a client gets it ('' = never). */
  server_check_delay: number;
  server_check_query: string;
  /** A query running longer is cancelled on its server (0 = off). */
  query_timeout: number;
  /** A client idle inside a transaction this long is disconnected (0 = off). */
  idle_transaction_timeout: number;
  /** A client idle outside a transaction this long is disconnected (0 = off). */
  client_idle_timeout: number;
  /** A client in one transaction this long is disconnected (0 = off). */
  transaction_timeout: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The proxy's `general:` section: the kernel's keys (generalShape) and the proxy's own — listener,
 * admin console, client and server TLS, logging, limits. Unknown keys are errors.
 */
export const proxyGeneralSchema = z.preprocess((v) => {
  // server_connect_timeout is PgBouncer's name; connect_timeout stays as its alias.
  if (!isRecord(v) || !('server_connect_timeout' in v) || 'connect_timeout' in v) return v;
  const { server_connect_timeout, ...rest } = v;
  return { ...rest, connect_timeout: server_connect_timeout };
}, z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Address clients connect to (TCP); `*` or `0.0.0.0` for every interface.'),
  port: z.number().int().min(0).max(65535).default(6432).describe('TCP port clients connect to (0 = any free port).'),
  io: z.enum(['native', 'node']).default('native').describe('Data path: native (sockets forwarded in C by @weir/io; node:net where the addon did not load, said at start) or node (node:net only). Read at start.'),
  so_reuseport: z.boolean().default(false).describe('SO_REUSEPORT on the TCP listener: another weir started on the same host:port shares it (the kernel spreads new connections), for rolling restarts (docs/operations.md). Read at start.'),
  unix_socket_dir: z.string().min(1).optional().describe('Directory for a unix socket `.s.PGSQL.<port>` as well as TCP.'),
  admin_user: z.string().min(1).default('admin').describe('User of the admin console (database `weir` or `pgbouncer`).'),
  admin_password: z.string().default('').describe('Password of the admin console user.'),
  connect_timeout: generalShape.connect_timeout.describe('Bound on opening and authenticating a server connection (alias: `server_connect_timeout`).'),
  query_wait_timeout: generalShape.query_wait_timeout,
  idle_timeout: generalShape.idle_timeout,
  server_lifetime: generalShape.server_lifetime,
  shutdown_timeout: duration.prefault('10s').describe('SIGTERM: how long transactions in flight may run before weir exits.'),
  client_login_timeout: duration.prefault('1m').describe('A client that has not logged in within this is disconnected.'),
  tls_certificate: z.string().min(1).optional().describe('PEM certificate file for TLS from clients (with tls_private_key).'),
  tls_private_key: z.string().min(1).optional().describe('PEM private key file for TLS from clients.'),
  client_tls_sslmode: serverTlsMode.optional().describe('TLS from clients: prefer where tls_certificate is set, else disable; require refuses plaintext; verify-ca and verify-full check client certificates.'),
  client_tls_ca_file: z.string().min(1).optional().describe('CA file client certificates are checked against (verify-ca, verify-full).'),
  server_tls_sslmode: serverTlsMode.default('prefer').describe('TLS to PostgreSQL, as libpq sslmode.'),
  server_tls_ca_file: z.string().min(1).optional().describe('CA file the server certificate is checked against (verify-ca, verify-full).'),
  server_tls_cert_file: z.string().min(1).optional().describe('Client certificate weir shows PostgreSQL.'),
  server_tls_key_file: z.string().min(1).optional().describe('Private key of server_tls_cert_file.'),
  server_tls_protocols: tlsProtocols.default('secure').describe('TLS versions to PostgreSQL: secure (1.2, 1.3), all, legacy, or a comma list of tlsv1, tlsv1.1, tlsv1.2, tlsv1.3.'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Least severe level logged (JSON lines on stdout).'),
  log_format: z.enum(['json', 'pretty']).default('json').describe('json: one JSON object per line (level names); pretty: one readable line per event. Read at start.'),
  max_client_conn: z.number().int().min(1).default(1000).describe('Most client connections at once; one more is refused.'),
  log_connections: z.boolean().default(true).describe('An info line for each login (address, user, database).'),
  log_disconnections: z.boolean().default(true).describe('An info line for each disconnect of a logged-in client (duration, reason).'),
  log_pooler_errors: z.boolean().default(true).describe('A line for each error weir itself sends a client (refusal, failed login, timeout, admin error): address, user, database, SQLSTATE, message.'),
  log_stats: z.boolean().default(true).describe('A line per database with traffic every stats_period.'),
  stats_period: duration.refine((ms) => ms >= 1_000, 'stats_period must be at least 1s').prefault('1m').describe('How often SHOW STATS averages are computed and log_stats lines written (at least 1s).'),
  metrics_port: z.number().int().min(0).max(65535).default(0).describe('Prometheus /metrics and /healthz over HTTP on this port (0 = off).'),
  metrics_host: z.string().min(1).default('127.0.0.1').describe('Address of the metrics listener.'),
  max_db_connections: z.number().int().min(0).default(0).describe('Server connections to one database across all its pools (0 = no cap; a pool may override).'),
  max_user_connections: z.number().int().min(0).default(0).describe('Server connections logged in as one user across all pools (0 = no cap).'),
  reserve_pool_size: z.number().int().min(0).default(0).describe('Connections a pool may open past its size for clients that waited reserve_pool_timeout.'),
  reserve_pool_timeout: duration.prefault('5s').describe('How long a client waits before the reserve pool is used for it.'),
  server_check_delay: duration.prefault('30s').describe('A server connection idle this long runs server_check_query before a client gets it.'),
  server_check_query: z.string().default('select 1').describe("Query that checks an idle server connection ('' = never check)."),
  query_timeout: duration.prefault('0').describe('A query running longer is cancelled on its server (0 = off).'),
  idle_transaction_timeout: duration.prefault('0').describe('A client idle inside a transaction this long is disconnected (0 = off).'),
  client_idle_timeout: duration.prefault('0').describe('A client idle outside a transaction this long is disconnected (0 = off).'),
  transaction_timeout: duration.prefault('0').describe('A client in one transaction this long is disconnected (0 = off).'),
  server_connect_timeout: duration.optional().describe("PgBouncer's name for connect_timeout (set one, not both)."),
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

const _general: ZodType<ProxyGeneralConfig> = proxyGeneralSchema;
void _general;
