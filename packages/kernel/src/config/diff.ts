import type { ConfigDiff } from './types.js';
import { configFingerprint } from './fingerprint.js';
import { formatPath } from './source.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function walk(a: unknown, b: unknown, path: PropertyKey[], out: string[]): void {
  if (Object.is(a, b)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) walk(a[k], b[k], [...path, k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) walk(a[i], b[i], [...path, i], out);
    return;
  }
  out.push(formatPath(path));
}

/** Key paths that differ (the top-level `file` is ignored) and which pools were added, removed or changed. */
export function diffConfig(previous: unknown, next: unknown): ConfigDiff {
  const changed: string[] = [];
  const prev = isPlainObject(previous) ? { ...previous, file: undefined } : previous;
  const nxt = isPlainObject(next) ? { ...next, file: undefined } : next;
  walk(prev, nxt, [], changed);
  const prevPools = isPlainObject(previous) && isPlainObject(previous.pools) ? previous.pools : {};
  const nextPools = isPlainObject(next) && isPlainObject(next.pools) ? next.pools : {};
  const poolsAdded: string[] = [];
  const poolsRemoved: string[] = [];
  const poolsChanged: string[] = [];
  for (const name of Object.keys(nextPools)) {
    if (!(name in prevPools)) poolsAdded.push(name);
    else if (configFingerprint(prevPools[name]) !== configFingerprint(nextPools[name])) poolsChanged.push(name);
  }
  for (const name of Object.keys(prevPools)) if (!(name in nextPools)) poolsRemoved.push(name);
  return { changed, poolsAdded, poolsRemoved, poolsChanged };
}
