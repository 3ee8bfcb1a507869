export { PreparedStatementsPlugin, configSchema, type PreparedStatementsConfig } from './plugin.js';
export { StatementCache, STATEMENT_CACHE, type PoolStatementStats } from './statement-cache.js';
export { ConnectionStatements } from './connection-cache.js';
export { StatementRegistry, type Statement } from './statements.js';
export { installProxyHandlers } from './proxy-handlers.js';
