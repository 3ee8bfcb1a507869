import { ErrorCodes, problemText, type ConfigProblem } from '@weir/kernel';
import { checkProxyConfig } from '@weir/proxy';
import { loadPlugins } from './plugins.js';

/** One line per problem: `FILE:LINE: key.path: message [WEIR_E_…]`. */
export function problemLine(p: ConfigProblem): string {
  return `${problemText(p)} [${p.code ?? ErrorCodes.CONFIG_INVALID}]`;
}

/** `weir check`: every problem of the file on stderr lines (exit 1), or one OK line (exit 0). */
export function checkConfigFile(file: string, text: string): { code: number; out: string[]; err: string[] } {
  const plugins = loadPlugins(file);
  const r = checkProxyConfig(text, plugins.all(), file, (cfg) => plugins.loadNamed(cfg.plugins));
  if (r.config === undefined) {
    const n = r.problems.length;
    return { code: 1, out: [], err: [...r.problems.map(problemLine), `${file}: ${n} problem${n === 1 ? '' : 's'}`] };
  }
  const pools = Object.keys(r.config.pools).length;
  const enabled = Object.entries(r.config.plugins).filter(([, s]) => s.enabled !== false).map(([k]) => k);
  return { code: 0, out: [`${file}: ok (${pools} pool${pools === 1 ? '' : 's'}; plugins: ${enabled.join(', ') || 'none'})`], err: [] };
}
