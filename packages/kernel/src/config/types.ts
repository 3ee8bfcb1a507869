/** Parsed kernel config: durations in milliseconds, sizes in bytes. */
export interface GeneralConfig {
  host: string;
  port: number;
  /** Data path: native (@weir/io, where it loaded) or node (node:net). */
  io: 'native' | 'node';
  unix_socket_dir?: string;
  admin_user: string;
  admin_password: string;
  connect_timeout: number;
  query_wait_timeout: number;
  idle_timeout: number;
  server_lifetime: number;
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

/** A `plugins.<configKey>` section. Present = enabled unless `enabled: false`. */
export type PluginSection = { enabled: boolean } & Record<string, unknown>;

export interface Config {
  general: GeneralConfig;
  plugins: Record<string, PluginSection>;
  pools: Record<string, any>;
  /** The file it was loaded from, when there is one. */
  file?: string;
}

export interface ConfigDiff {
  /** Key paths that differ, e.g. 'pools.appdb.auth_query.query'. */
  changed: string[];
  poolsAdded: string[];
  poolsRemoved: string[];
  poolsChanged: string[];
}
