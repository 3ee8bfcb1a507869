/**
 * What RELOAD (admin console) or SIGHUP does with each key of the config, next to the schemas
 * the reference is generated from: `npm run docs:config` fails on a key missing here, and on an
 * entry that names no key. The truth is in the reload path (Proxy.reload / reconcile, the
 * kernel's reload hook, each plugin's `reload` handler); e2e/admin checks some of it.
 */
export type Reloadable =
  /** The running proxy uses the new value at once (read at each use). */
  | 'yes'
  /** Read when a client logs in: clients already connected keep what they had. */
  | 'new clients'
  /** The pool is rebuilt: transactions in flight finish, new server connections use the new value. */
  | 'new server connections'
  /** Read at start only: restart weir. */
  | 'no (restart)';

const Y = 'yes';
const CLIENTS = 'new clients';
const SERVERS = 'new server connections';
const NO = 'no (restart)';

export const RELOADABLE: Readonly<Record<string, Reloadable>> = {
  // Listeners and the logger are made at start.
  'general.host': NO,
  'general.port': NO,
  'general.io': NO,
  'general.so_reuseport': NO,
  'general.unix_socket_dir': NO,
  'general.metrics_port': NO,
  'general.metrics_host': NO,
  'general.log_level': NO,
  'general.log_format': NO,
  // Read at each login.
  'general.admin_user': CLIENTS,
  'general.admin_password': CLIENTS,
  'general.client_login_timeout': CLIENTS,
  'general.tls_certificate': CLIENTS,
  'general.tls_private_key': CLIENTS,
  'general.client_tls_sslmode': CLIENTS,
  'general.client_tls_ca_file': CLIENTS,
  // Pool options: applied to every pool by reconcile (resize).
  'general.connect_timeout': Y,
  'general.server_connect_timeout': Y,
  'general.query_wait_timeout': Y,
  'general.idle_timeout': Y,
  'general.server_lifetime': Y,
  'general.reserve_pool_size': Y,
  'general.reserve_pool_timeout': Y,
  'general.max_db_connections': Y,
  'general.max_user_connections': Y,
  // Part of a pool's target: the pool is rebuilt.
  'general.server_tls_sslmode': SERVERS,
  'general.server_tls_ca_file': SERVERS,
  'general.server_tls_cert_file': SERVERS,
  'general.server_tls_key_file': SERVERS,
  'general.server_tls_protocols': SERVERS,
  // Read through general() where used.
  'general.shutdown_timeout': Y,
  'general.max_client_conn': Y,
  'general.log_connections': Y,
  'general.log_disconnections': Y,
  'general.log_pooler_errors': Y,
  'general.log_stats': Y,
  'general.stats_period': Y,
  'general.server_check_delay': Y,
  'general.server_check_query': Y,
  'general.query_timeout': Y,
  'general.idle_transaction_timeout': Y,
  'general.client_idle_timeout': Y,
  'general.transaction_timeout': Y,

  // Plugins switched on or off take effect at the next start (the kernel says so on RELOAD).
  'plugins.auth_query.enabled': NO,
  'plugins.auth_query.lookup_timeout': Y,
  'plugins.auth_query.cache_max_entries': Y,
  'plugins.dynamic_pools.enabled': NO,
  'plugins.dynamic_pools.max_pools': Y,
  'plugins.idle_gc.enabled': NO,
  'plugins.idle_gc.interval': Y,
  'plugins.idle_gc.pool_idle_timeout': Y,
  // prepared_statements has no reload handler: its cache is sized at start.
  'plugins.prepared_statements.enabled': NO,
  'plugins.prepared_statements.max_per_connection': NO,
  'plugins.prepared_statements.cache_anonymous': NO,
  'plugins.prepared_statements.max_statements': NO,
  'plugins.prepared_statements.max_statement_bytes': NO,
  'plugins.prepared_statements.max_client_statement_bytes': NO,

  // A pool whose target changed is rebuilt; a pool added or removed is created or retired.
  'pools.<name>.server_host': SERVERS,
  'pools.<name>.server_port': SERVERS,
  'pools.<name>.server_database': SERVERS,
  'pools.<name>.server_tls_sslmode': SERVERS,
  'pools.<name>.server_tls_ca_file': SERVERS,
  'pools.<name>.server_tls_cert_file': SERVERS,
  'pools.<name>.server_tls_key_file': SERVERS,
  'pools.<name>.server_tls_protocols': SERVERS,
  'pools.<name>.min_pool_size': SERVERS,
  'pools.<name>.pool_mode': CLIENTS,
  'pools.<name>.auth_type': CLIENTS,
  'pools.<name>.pool_size': Y,
  'pools.<name>.max_db_connections': Y,
  'pools.<name>.reserve_pool_size': Y,
  'pools.<name>.users': Y,
  'pools.<name>.users[].username': Y,
  'pools.<name>.users[].password': CLIENTS,
  'pools.<name>.users[].pool_size': Y,
  'pools.<name>.users[].server_username': SERVERS,
  'pools.<name>.users[].server_password': SERVERS,
  // A changed auth_query section retires that database's dynamic pools and empties its cache.
  'pools.<name>.auth_query': Y,
  'pools.<name>.auth_query.query': Y,
  'pools.<name>.auth_query.user': Y,
  'pools.<name>.auth_query.password': Y,
  'pools.<name>.auth_query.database': Y,
  'pools.<name>.auth_query.cache_ttl': Y,
  'pools.<name>.auth_query.cache_failure_ttl': Y,
  'pools.<name>.auth_query.min_interval': Y,
  'pools.<name>.auth_query.pool_size': Y,
  'pools.<name>.auth_query.server_user': Y,
  'pools.<name>.auth_query.server_password': Y,
};
