/** This kernel's version (its package.json), what plugin descriptors' `kernel` ranges are checked against. */
export const KERNEL_VERSION: string = (require('../package.json') as { version: string }).version;

/** Does `version` satisfy a simple range: "^x.y.z", "~x.y.z", ">=x.y.z", "x.y.z", "*" (what plugin descriptors use)? */
export function satisfiesRange(version: string, range: string): boolean {
  const v = version.split('.').map(Number);
  const r = range.trim();
  if (r === '*' || r === '') return true;
  const m = /^(\^|~|>=)?(\d+)\.(\d+)\.(\d+)$/.exec(r);
  if (!m) return false;
  const want = [Number(m[2]), Number(m[3]), Number(m[4])];
  const cmp = v[0]! - want[0]! || v[1]! - want[1]! || v[2]! - want[2]!;
  if (m[1] === '>=') return cmp >= 0;
  if (m[1] === '~') return v[0] === want[0] && v[1] === want[1] && cmp >= 0;
  if (m[1] === '^') return (want[0]! > 0 ? v[0] === want[0] : v[0] === 0 && v[1] === want[1]) && cmp >= 0;
  return cmp === 0;
}
