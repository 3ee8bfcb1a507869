/** The host-neutral core (imports no host); the proxy adapter is `@weir/plugin-prepared-statements/proxy`. */
export { PreparedStatementsPlugin, configSchema, type PreparedStatementsConfig } from './plugin.js';
export { StatementCache, STATEMENT_CACHE, type PoolStatementStats } from './statement-cache.js';
export { ConnectionStatements } from './connection-cache.js';
export { PLUGIN_NAME } from './name.js';
