import type { ZodType } from 'zod';
import type { Config, PluginSection } from './config/types.js';
import { configError, formatZodIssues, type ConfigProblem } from './config/issues.js';
import { formatPath, lineOf, readYaml, type KeyPath, type YamlSource } from './config/source.js';
import { ErrorCodes } from './errors.js';
import { indexPlugins } from './plugin-order.js';
import type { PluginClass } from './plugin-types.js';

/** Validated section object → the plugin schema's output (what TOKENS.PluginConfig gets). */
const parsedSections = new WeakMap<object, unknown>();

/** The schema output recorded for a section validated by validatePluginSections, if any. */
export function validatedSection(section: object): { value: unknown } | undefined {
  return parsedSections.has(section) ? { value: parsedSections.get(section) } : undefined;
}

/** configKeys enabled in the config: a section present without `enabled: false`. */
export function enabledKeys(config: Config): Set<string> {
  const out = new Set<string>();
  for (const [key, section] of Object.entries(config.plugins ?? {})) {
    if (section === null || section === undefined || (section as PluginSection).enabled !== false) out.add(key);
  }
  return out;
}

/** Keys every pool may carry because a plugin owns them (for the host's strict pool schema). */
export function poolSectionKeys(plugins: readonly PluginClass[]): string[] {
  return plugins.map((P) => P.plugin.poolSectionKey).filter((k): k is string => typeof k === 'string');
}

class Locator {
  private src: YamlSource | undefined;
  constructor(
    readonly file: string,
    private readonly text: string | undefined,
  ) {}
  source(): YamlSource | undefined {
    if (this.text !== undefined && this.src === undefined) this.src = readYaml(this.text, this.file);
    return this.src;
  }
  problem(path: KeyPath, message: string): ConfigProblem {
    const src = this.source();
    return { file: this.file, line: src && lineOf(src, path), path: formatPath(path), message };
  }
}

/** Validate a section with a plugin schema; returns the parsed value or throws a located error. */
function parseSection(schema: ZodType, value: unknown, path: KeyPath, where: Locator | undefined): unknown {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw configError(formatZodIssues(r.error.issues, where?.source(), path, where?.file));
}

/** A plugin's validated section: recorded by validatePluginSections, else parsed now (WEIR_E_CONFIG_INVALID). */
export function pluginSectionValue(P: PluginClass, section: unknown, file = '<config>'): unknown {
  if (section !== null && typeof section === 'object') {
    const known = validatedSection(section);
    if (known !== undefined) return known.value;
  }
  return parseSection(P.plugin.configSchema, sectionBody(section), ['plugins', P.plugin.configKey], new Locator(file, undefined));
}

/** The plugin section without the kernel's `enabled` key. */
export function sectionBody(section: unknown): Record<string, unknown> {
  if (section === null || section === undefined) return {};
  const { enabled: _enabled, ...body } = section as Record<string, unknown>;
  return body;
}

/**
 * Validate every plugin section of a config: `plugins.<key>` with the plugin's configSchema and
 * each `pools.<name>.<poolSectionKey>` with its poolSectionSchema. Valid sections are replaced in
 * place by their parsed form. Errors (file and line when `text` is given):
 * - enabled plugin not among `plugins`: WEIR_E_PLUGIN_NOT_FOUND
 * - a section (beyond `enabled: false`) of a disabled or unknown plugin: WEIR_E_PLUGIN_DISABLED_CONFIG
 * - a section failing its schema: WEIR_E_CONFIG_INVALID
 */
export function validatePluginSections(config: Config, plugins: PluginClass[], file?: string, text?: string): void {
  const where = new Locator(file ?? config.file ?? '<config>', text);
  const byKey = indexPlugins(plugins);
  const enabled = enabledKeys(config);
  for (const [key, section] of Object.entries(config.plugins ?? {})) {
    const P = byKey.get(key);
    const path = ['plugins', key];
    const body = sectionBody(section);
    if (!enabled.has(key)) {
      if (Object.keys(body).length > 0) {
        const what = P === undefined ? `unknown plugin "${key}"` : `plugin ${P.plugin.name}`;
        throw configError([where.problem(path, `settings for ${what}, which is disabled (remove them or set enabled: true)`)], ErrorCodes.PLUGIN_DISABLED_CONFIG);
      }
      continue;
    }
    if (P === undefined) {
      throw configError([where.problem(path, `plugin "${key}" is enabled but no such plugin is installed`)], ErrorCodes.PLUGIN_NOT_FOUND);
    }
    const parsed = parseSection(P.plugin.configSchema, body, path, where);
    const replaced: PluginSection = { enabled: true, ...(parsed as object) };
    parsedSections.set(replaced, parsed);
    config.plugins[key] = replaced;
  }
  const owners = new Map<string, PluginClass>();
  for (const P of byKey.values()) if (P.plugin.poolSectionKey !== undefined) owners.set(P.plugin.poolSectionKey, P);
  for (const [name, pool] of Object.entries(config.pools ?? {})) {
    if (pool === null || typeof pool !== 'object') continue;
    for (const [sectionKey, P] of owners) {
      if (!(sectionKey in pool)) continue;
      const path = ['pools', name, sectionKey];
      if (!enabled.has(P.plugin.configKey)) {
        throw configError(
          [where.problem(path, `section of plugin ${P.plugin.name}, which is disabled (enable it under plugins.${P.plugin.configKey})`)],
          ErrorCodes.PLUGIN_DISABLED_CONFIG,
        );
      }
      const schema = P.plugin.poolSectionSchema;
      if (schema !== undefined) (pool as Record<string, unknown>)[sectionKey] = parseSection(schema, pool[sectionKey], path, where);
    }
  }
}
