import fs from 'node:fs';
import { parseConfig, validatePluginSections, WeirError, type Config, type PluginClass } from '@weir/kernel';
import { proxyConfigSchema, type ProxyConfig } from './schema.js';

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

/** `more` may add plugins named by the config itself (third-party packages) before plugin sections are validated. */
export function parseProxyConfig(text: string, plugins: PluginClass[], file = '<config>', more?: (config: ProxyConfig) => PluginClass[]): ProxyConfig {
  const config = parseConfig(text, proxyConfigSchema, file) as ProxyConfig;
  const all = more ? [...plugins, ...more(config)] : plugins;
  validatePluginSections(config as unknown as Config, all, file, text);
  return config;
}
