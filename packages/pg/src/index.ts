export { Pool, BasePool, TenantPool, type PoolClient, type PgPoolTarget } from './pool.js';
export { PgConnector, isUsable, type ClientClass, type PgConnectorOptions } from './connector.js';
export { kernelPoolOptions, clientConfig, pluginSections, type PoolConfig, type TenantConfig, type PluginEntry } from './options.js';
