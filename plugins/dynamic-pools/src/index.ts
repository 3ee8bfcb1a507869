export { DynamicPoolsPlugin, DYNAMIC_POOL_KEYS, DYNAMIC_POOL_LIMIT, dynamicPoolsConfigSchema, type DynamicPoolsConfig } from './plugin.js';
export type { DynamicPoolKeys } from './keys.js';
export { staleDatabases } from './reload.js';
