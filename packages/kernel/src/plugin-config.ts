import type { ZodType } from 'zod';
import type { Config, PluginSection } from './config/types.js';
import { configError, formatZodIssues, type ConfigProblem } from './config/issues.js';
import { formatPath, lineOf, readYaml, type KeyPath, type YamlSource } from './config/source.js';
import { closest } from './config/levenshtein.js';
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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
  problem(path: KeyPath, message: string, code?: string): ConfigProblem {
    const src = this.source();
    return { file: this.file, line: src && lineOf(src, path), path: formatPath(path), message, ...(code === undefined ? {} : { code }) };
  }
}

type Checked = { ok: true; value: unknown } | { ok: false; problems: ConfigProblem[] };

/** Validate a section with a plugin schema: the parsed value or its located problems. */
function checkSection(schema: ZodType, value: unknown, path: KeyPath, where: Locator | undefined): Checked {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problems: formatZodIssues(r.error.issues, where?.source(), path, where?.file, schema) };
}

/** A plugin's validated section: recorded by validatePluginSections, else parsed now (WEIR_E_CONFIG_INVALID). */
export function pluginSectionValue(P: PluginClass, section: unknown, file = '<config>', text?: string): unknown {
  if (section !== null && typeof section === 'object') {
    const known = validatedSection(section);
    if (known !== undefined) return known.value;
  }
  const r = checkSection(P.plugin.configSchema, sectionBody(section), ['plugins', P.plugin.configKey], new Locator(file, text));
  if (!r.ok) throw configError(r.problems);
  return r.value;
}

/** The plugin section without the kernel's `enabled` key. */
export function sectionBody(section: unknown): Record<string, unknown> {
  if (!isRecord(section)) return {};
  const { enabled: _enabled, ...body } = section;
  return body;
}

/**
 * Check every plugin section of a config (parsed or raw): `plugins.<key>` with the plugin's
 * configSchema and each `pools.<name>.<poolSectionKey>` with its poolSectionSchema. Valid sections
 * are replaced in place by their parsed form. Every problem is returned (file and line when
 * `text` is given), each with its code:
 * - enabled plugin not among `plugins`: WEIR_E_PLUGIN_NOT_FOUND (with a did-you-mean)
 * - a section (beyond `enabled: false`) of a disabled or unknown plugin: WEIR_E_PLUGIN_DISABLED_CONFIG
 * - a section failing its schema: WEIR_E_CONFIG_INVALID
 */
export function pluginSectionProblems(config: Config, plugins: PluginClass[], file?: string, text?: string): ConfigProblem[] {
  const where = new Locator(file ?? config.file ?? '<config>', text);
  const byKey = indexPlugins(plugins);
  const problems: ConfigProblem[] = [];
  const sections = isRecord(config.plugins) ? config.plugins : {};
  const enabled = enabledKeys({ ...config, plugins: sections as Config['plugins'] });
  for (const [key, section] of Object.entries(sections)) {
    const P = byKey.get(key);
    const path = ['plugins', key];
    const body = sectionBody(section);
    if (!enabled.has(key)) {
      if (Object.keys(body).length > 0) {
        const what = P === undefined ? `unknown plugin "${key}"` : `plugin ${P.plugin.name}`;
        problems.push(where.problem(path, `settings for ${what}, which is disabled (remove them or set enabled: true)`, ErrorCodes.PLUGIN_DISABLED_CONFIG));
      }
      continue;
    }
    if (P === undefined) {
      const near = closest(key, byKey.keys());
      const hint = near === undefined ? '' : `, did you mean \`${near}\`?`;
      problems.push(where.problem(path, `plugin "${key}" is enabled but no such plugin is installed${hint}`, ErrorCodes.PLUGIN_NOT_FOUND));
      continue;
    }
    if (!isRecord(section) && section !== null && section !== undefined) continue; // the base schema reports it
    const r = checkSection(P.plugin.configSchema, body, path, where);
    if (!r.ok) {
      problems.push(...r.problems);
      continue;
    }
    const replaced: PluginSection = { enabled: true, ...(r.value as object) };
    parsedSections.set(replaced, r.value);
    sections[key] = replaced;
  }
  const owners = new Map<string, PluginClass>();
  for (const P of byKey.values()) if (P.plugin.poolSectionKey !== undefined) owners.set(P.plugin.poolSectionKey, P);
  for (const [name, pool] of Object.entries(isRecord(config.pools) ? config.pools : {})) {
    if (!isRecord(pool)) continue;
    for (const [sectionKey, P] of owners) {
      if (!(sectionKey in pool)) continue;
      const path = ['pools', name, sectionKey];
      if (!enabled.has(P.plugin.configKey)) {
        problems.push(where.problem(path, `section of plugin ${P.plugin.name}, which is disabled (enable it under plugins.${P.plugin.configKey})`, ErrorCodes.PLUGIN_DISABLED_CONFIG));
        continue;
      }
      const schema = P.plugin.poolSectionSchema;
      if (schema === undefined) continue;
      const r = checkSection(schema, pool[sectionKey], path, where);
      if (r.ok) pool[sectionKey] = r.value;
      else problems.push(...r.problems);
    }
  }
  return problems;
}

/** pluginSectionProblems, thrown: one WeirError listing them all (its code as configError picks). */
export function validatePluginSections(config: Config, plugins: PluginClass[], file?: string, text?: string): void {
  const problems = pluginSectionProblems(config, plugins, file, text);
  if (problems.length > 0) throw configError(problems);
}
