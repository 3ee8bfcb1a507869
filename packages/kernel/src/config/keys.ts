import type { ZodType } from 'zod';
import type { KeyPath } from './source.js';

interface Def {
  type: string;
  shape?: Record<string, ZodType>;
  valueType?: ZodType;
  element?: ZodType;
  innerType?: ZodType;
  in?: ZodType;
  out?: ZodType;
  options?: ZodType[];
}

const defOf = (s: ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas `schema` may be at this level, through wrappers (default, optional, pipe, union). */
function objects(schema: ZodType, out: Def[] = []): Def[] {
  const def = defOf(schema);
  if (def.type === 'object') out.push(def);
  else if (def.innerType) objects(def.innerType, out);
  else if (def.type === 'pipe') {
    objects(def.in!, out);
    objects(def.out!, out);
  } else if (def.type === 'union') for (const o of def.options ?? []) objects(o, out);
  return out;
}

/** The schemas of the value one step down `seg` (an object key, record value or array item). */
function step(schema: ZodType, seg: PropertyKey): ZodType[] {
  const def = defOf(schema);
  if (def.type === 'object') return def.shape?.[String(seg)] ? [def.shape[String(seg)]!] : [];
  if (def.type === 'record') return [def.valueType!];
  if (def.type === 'array') return [def.element!];
  if (def.innerType) return step(def.innerType, seg);
  if (def.type === 'pipe') return [...step(def.in!, seg), ...step(def.out!, seg)];
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => step(o, seg));
  return [];
}

/** The keys an object at `path` in `schema` may have (empty when the schema says nothing). */
export function keysAt(schema: ZodType, path: KeyPath): string[] {
  let here: ZodType[] = [schema];
  for (const seg of path) here = here.flatMap((s) => step(s, seg));
  const keys = new Set<string>();
  for (const s of here) for (const o of objects(s)) for (const k of Object.keys(o.shape ?? {})) keys.add(k);
  return [...keys];
}
