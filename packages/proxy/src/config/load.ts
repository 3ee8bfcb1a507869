import fs from 'node:fs';
import {
  checkValue, configError, formatPath, isWeirError, lineOf, pluginSectionProblems, readConfigText, sortProblems, WeirError,
  type Config, type ConfigProblem, type PluginClass, type YamlSource,
} from '@weir/kernel';
import { proxyConfigSchemaFor, type ProxyConfig } from './schema.js';

/** Read, parse and validate a proxy config file, plugin sections included. Throws a WeirError naming file, key path and line. */
export function loadProxyConfig(file: string, plugins: PluginClass[], more?: (config: ProxyConfig) => PluginClass[]): ProxyConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new WeirError('WEIR_E_CONFIG_READ', `cannot read config file ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  return parseProxyConfig(text, plugins, file, more);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Plugins named under `plugins:` that `more` loads, one section at a time so each failure is its own problem. */
function loadMore(raw: Record<string, unknown>, more: (config: ProxyConfig) => PluginClass[], src: YamlSource) {
  const plugins: PluginClass[] = [];
  const problems: ConfigProblem[] = [];
  for (const [key, section] of Object.entries(isRecord(raw.plugins) ? raw.plugins : {})) {
    try {
      plugins.push(...more({ plugins: { [key]: section } } as unknown as ProxyConfig));
    } catch (e) {
      if (!isWeirError(e)) throw e;
      const path = ['plugins', key];
      const message = e.message.startsWith(`${formatPath(path)}: `) ? e.message.slice(formatPath(path).length + 2) : e.message;
      problems.push({ file: src.file, line: lineOf(src, path), path: formatPath(path), message, code: e.code });
    }
  }
  return { plugins, problems };
}

/** Every problem of a config text (YAML, env, general, pools, plugin sections), sorted by line; the config when none. */
export function checkProxyConfig(
  text: string,
  plugins: PluginClass[],
  file = '<config>',
  more?: (config: ProxyConfig) => PluginClass[],
): { config: ProxyConfig; problems: [] } | { config: undefined; problems: ConfigProblem[] } {
  const read = readConfigText(text, file);
  if (read.problems.length > 0) return { config: undefined, problems: read.problems };
  const raw = isRecord(read.value) ? read.value : {};
  const loaded = more ? loadMore(raw, more, read.src) : { plugins: [], problems: [] };
  const all = [...plugins, ...loaded.plugins];
  const checked = checkValue(read.value, proxyConfigSchemaFor(all), read.src);
  // Plugin sections are checked even when the rest failed, so one run shows every problem.
  const config = (checked.ok ? checked.value : structuredClone(raw)) as unknown as Config;
  const failed = new Set(loaded.problems.map((p) => p.path));
  const sections = pluginSectionProblems(config, all, file, text).filter((p) => !failed.has(p.path));
  const problems = [...(checked.ok ? [] : checked.problems), ...loaded.problems, ...sections];
  if (problems.length > 0) return { config: undefined, problems: sortProblems(problems) };
  return { config: config as unknown as ProxyConfig, problems: [] };
}

/** `more` may add plugins named by the config itself (third-party packages) before plugin sections are validated. */
export function parseProxyConfig(text: string, plugins: PluginClass[], file = '<config>', more?: (config: ProxyConfig) => PluginClass[]): ProxyConfig {
  const r = checkProxyConfig(text, plugins, file, more);
  if (r.config === undefined) throw configError(r.problems);
  return r.config;
}
