/** `@weir/plugin-prepared-statements/proxy`: the proxy adapter entry (imports @weir/proxy; the package's main entry does not). */
export { PreparedStatementsProxyPlugin, PreparedStatementsProxyPlugin as default } from './proxy-plugin.js';
export { installProxyHandlers } from './proxy-handlers.js';
export { StatementRegistry, type Statement } from './statements.js';
