/**
 * The one change detector for reload: a stable text for a config value. Equal values give equal
 * fingerprints whatever the order of their keys; a key whose value is `undefined` counts as
 * absent. Compare two values (`configFingerprint(a) === configFingerprint(b)`), or keep the
 * fingerprint of what you built from a section and compare it with the next config's.
 * For what YAML and zod give (plain objects, arrays, strings, numbers, booleans, null), plus Map and Set.
 */
export function configFingerprint(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(configFingerprint).join(',')}]`;
  if (value instanceof Map) return `Map${configFingerprint([...value])}`;
  if (value instanceof Set) return `Set${configFingerprint([...value])}`;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${configFingerprint(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** @deprecated compare `configFingerprint(a) === configFingerprint(b)` (kept for plugins written against 0.1.0). */
export function sameConfigValue(a: unknown, b: unknown): boolean {
  return configFingerprint(a) === configFingerprint(b);
}
