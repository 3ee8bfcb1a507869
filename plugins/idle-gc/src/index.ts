export { IdleGcPlugin, idleGcConfigSchema, type IdleGcConfig } from './plugin.js';
