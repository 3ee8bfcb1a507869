export type { Config, ConfigDiff, GeneralConfig, PluginSection } from './types.js';
export { duration, parseDuration } from './duration.js';
export { size, parseSize } from './size.js';
export { interpolateEnv } from './env.js';
export { parseConfig, loadConfigFile } from './parse.js';
export { diffConfig, sameConfigValue } from './diff.js';
export { formatZodIssues, configError, problemText, type ConfigProblem } from './issues.js';
export { readYaml, lineOf, formatPath, type YamlSource, type KeyPath } from './source.js';
export { generalSchema, pluginSectionSchema, configSchema, baseConfigSchema, serverTlsMode, tlsProtocols } from './schema.js';
