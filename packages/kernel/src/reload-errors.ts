import type { Config } from './config/types.js';
import { formatPath, lineOf, readYaml, type KeyPath } from './config/source.js';
import { ErrorCodes, WeirError, isWeirError, messageOf } from './errors.js';
import type { PluginDescriptor } from './plugin-types.js';

/** Where the config being reloaded came from: its text gives the line of a key path. */
export interface ReloadSource {
  /** The file name errors give (else the config's own `file`). */
  readonly file?: string;
  readonly text?: string;
}

/**
 * A `reload` handler's refusal (it arrives as the hook's WEIR_E_HOOK_FAILED wrapper) as
 * WEIR_E_RELOAD_REJECTED naming the plugin, its key path (`plugins.<key>`, or the field it names
 * in `details.field`) and, when the text is known, the line.
 */
export function reloadRejected(err: unknown, plugins: readonly PluginDescriptor[], next: Config, source?: ReloadSource): WeirError {
  const owner = isWeirError(err, ErrorCodes.HOOK_FAILED) ? String(err.details.plugin) : 'the host';
  const cause = isWeirError(err, ErrorCodes.HOOK_FAILED) ? (err as { cause?: unknown }).cause : err;
  const d = plugins.find((p) => p.name === owner);
  const details = isWeirError(cause) ? cause.details : {};
  let path: KeyPath | undefined;
  if (d !== undefined) {
    path = ['plugins', d.configKey];
    if (typeof details.field === 'string' && details.field !== '') path = [...path, ...details.field.split('.')];
  } else if (typeof details.key === 'string') {
    path = details.key.split('.');
  }
  const file = source?.file ?? next.file ?? '<config>';
  const line = path !== undefined && source?.text !== undefined ? lineOf(readYaml(source.text, file), path) : undefined;
  const key = path === undefined ? undefined : formatPath(path);
  const where = key === undefined ? '' : `${file}${line === undefined ? '' : `:${line}`}: ${key}: `;
  const who = d === undefined ? owner : `plugin ${owner}`;
  return new WeirError(
    ErrorCodes.RELOAD_REJECTED,
    `${where}${who} refused the new config: ${messageOf(cause)}`,
    { plugin: owner, hook: 'reload', file, ...(key === undefined ? {} : { key }), ...(line === undefined ? {} : { line }) },
    { cause: err },
  );
}
