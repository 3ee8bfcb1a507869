import { z, type ZodType } from 'zod';
import { pluginSectionSchema, type PluginClass } from '@weir/kernel';
import { proxyGeneralSchema } from './general.js';
import { poolSchemaFor } from './schema.js';

const enabled = z.boolean().default(true).describe('Switch the plugin on or off (a section present is on).');

/** `plugins.<key>` of one plugin: `enabled` and the plugin's own keys, strict; `key:` alone (null) also switches it on. */
function pluginSection(P: PluginClass): ZodType {
  const schema = P.plugin.configSchema as ZodType & { shape?: Record<string, ZodType> };
  const body = schema.shape === undefined ? z.looseObject({ enabled }) : z.strictObject({ enabled, ...schema.shape });
  return body.nullable().describe(`Plugin ${P.plugin.name}.`);
}

/** The zod schema of the whole config with every plugin's sections spelled out (for JSON Schema and docs, not validation). */
export function describedConfigSchema(plugins: readonly PluginClass[]) {
  const sections: Record<string, ZodType> = {};
  for (const P of plugins) sections[P.plugin.configKey] = pluginSection(P).optional();
  return z.strictObject({
    general: proxyGeneralSchema.optional().describe('Listener, admin console, timeouts, TLS, logging and limits.'),
    plugins: z.object(sections).catchall(pluginSectionSchema).optional().describe('Plugins switched on and off, each with its settings; other keys name third-party plugin packages.'),
    pools: z.record(z.string(), poolSchemaFor(plugins, true)).optional().describe('One entry per database clients ask for (the key is the database name).'),
  });
}

/**
 * JSON Schema (draft 2020-12) of the config file as written (`io: 'input'`: defaults, durations
 * and sizes as the YAML may give them), built from the schemas that validate it.
 */
export function configJsonSchema(plugins: readonly PluginClass[]): Record<string, unknown> {
  const schema = z.toJSONSchema(describedConfigSchema(plugins), { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    ...schema,
    title: 'weir configuration',
    description: 'The weir config file (YAML). See docs/config.md.',
  };
}
