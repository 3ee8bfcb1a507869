import { ErrorCodes, WeirError } from '../errors.js';

const REF = /\$(\$?)\{([^}]*)\}/g;
const NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replace `${VAR}` and `${VAR:-default}` (default used when VAR is unset or empty).
 * `$${...}` stays literal as `${...}`. A missing variable is WEIR_E_CONFIG_INVALID naming it.
 */
export function interpolateEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!text.includes('${')) return text;
  if (text.replace(REF, '').includes('${')) {
    throw new WeirError(ErrorCodes.CONFIG_INVALID, 'unterminated ${ in value', {});
  }
  return text.replace(REF, (whole, escaped: string, inner: string) => {
    if (escaped === '$') return whole.slice(1);
    const m = NAME.exec(inner);
    if (m === null) {
      throw new WeirError(ErrorCodes.CONFIG_INVALID, `invalid environment reference \${${inner}}`, { variable: inner });
    }
    const name = m[1]!;
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (m[2] !== undefined) return m[2];
    if (value !== undefined) return value;
    throw new WeirError(ErrorCodes.CONFIG_INVALID, `environment variable ${name} is not set`, { variable: name });
  });
}
