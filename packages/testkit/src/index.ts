export { TestkitError, type TestkitErrorCode } from './errors.js';
export { findPgBin, type PgBinSearch } from './find-pg-bin.js';
export { freePort } from './free-port.js';
export { startCluster, type Cluster, type StartClusterOptions } from './cluster.js';
export { startWeir, defaultWeirBin, type WeirInstance, type StartWeirOptions } from './weir.js';
export { pluginTestConfig, startPluginStack, type PluginConfigOptions, type PluginStack, type StartPluginStackOptions } from './plugin-stack.js';
