import { configFingerprint } from '@weir/kernel';

/**
 * Keys of a `pools.<db>` section whose change leaves a dynamic pool as it is: the list of
 * static users, and the static users' default size.
 */
const IGNORED = new Set(['users', 'pool_size']);

function relevant(section: unknown): Record<string, unknown> | undefined {
  if (section === null || typeof section !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) if (!IGNORED.has(k)) out[k] = v;
  return out;
}

/**
 * Databases whose dynamic pools no longer match the config: the section was removed, or
 * anything in it that shapes a dynamic pool changed — the `auth_query` section (any field,
 * `server_user` included), the server address, the pool mode.
 */
export function staleDatabases(previous: Record<string, unknown> | undefined, next: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const before = previous ?? {};
  const after = next ?? {};
  for (const db of Object.keys(before)) {
    if (!(db in after)) out.add(db);
    else if (configFingerprint(relevant(before[db])) !== configFingerprint(relevant(after[db]))) out.add(db);
  }
  return out;
}
