import { configJsonSchema } from '@weir/proxy';
import { builtinPlugins } from './builtins.js';
import { RELOADABLE } from './reloadable.js';

/** The part of JSON Schema the config schema uses. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  required?: string[];
  default?: unknown;
  description?: string;
  'x-weir-type'?: string;
  [k: string]: unknown;
}

/** The JSON Schema of weir's config with the built-in plugins. */
export function weirJsonSchema(): JsonSchema {
  return configJsonSchema(builtinPlugins) as JsonSchema;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The object a schema describes, through `anyOf: [object, null]`. */
function objectOf(s: JsonSchema): JsonSchema | undefined {
  if (s.properties !== undefined) return s;
  if (s.type === 'array' && s.items !== undefined) return objectOf(s.items);
  for (const o of s.anyOf ?? []) {
    const inner = objectOf(o);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function typeText(s: JsonSchema): string {
  if (s['x-weir-type'] !== undefined) return s['x-weir-type'];
  if (s.enum !== undefined) return s.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (s.anyOf !== undefined) return s.anyOf.map(typeText).join(' or ');
  if (s.type === 'array') return `list of ${s.items === undefined ? 'values' : s.items.properties !== undefined ? 'entries' : typeText(s.items)}`;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'object') return s.properties === undefined ? 'map' : 'section';
  return s.type ?? 'any';
}

function defaultText(s: JsonSchema, required: boolean): string {
  if (required) return 'required';
  if (!('default' in s)) return '—';
  const d = s.default;
  if (Array.isArray(d) && d.length === 0) return 'none';
  return `\`${typeof d === 'string' ? (d === '' ? "''" : d) : JSON.stringify(d)}\``;
}

/** Whether RELOAD applies each key; `seen` collects the keys asked for, `missing` those with no marking. */
interface ReloadTable {
  readonly of: Readonly<Record<string, string>>;
  readonly seen: Set<string>;
  readonly missing: string[];
}

function reloadText(t: ReloadTable, path: string): string {
  t.seen.add(path);
  const r = t.of[path];
  if (r === undefined) t.missing.push(path);
  return r ?? '?';
}

/** One section: a heading, its table, then its nested sections. */
function section(title: string, s: JsonSchema, intro: string | undefined, out: string[], reload: ReloadTable): void {
  out.push(`## \`${title}\``, '');
  if (intro) out.push(intro, '');
  const nested: [string, JsonSchema, string | undefined][] = [];
  out.push('| key | type | default | reloadable | description |', '| --- | --- | --- | --- | --- |');
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const obj = objectOf(prop);
    const desc = prop.description ?? '';
    if (obj !== undefined) {
      const sub = prop.type === 'array' ? `${title}.${key}[]` : `${title}.${key}`;
      nested.push([sub, obj, desc]);
      out.push(`| \`${key}\` | ${cell(typeText(prop))} | ${defaultText(prop, false)} | ${reloadText(reload, `${title}.${key}`)} | ${cell(desc)} See [\`${sub}\`](#${anchor(sub)}). |`);
      continue;
    }
    out.push(`| \`${key}\` | ${cell(typeText(prop))} | ${defaultText(prop, s.required?.includes(key) ?? false)} | ${reloadText(reload, `${title}.${key}`)} | ${cell(desc)} |`);
  }
  out.push('');
  if (s.additionalProperties === false) out.push('Any other key is an error.', '');
  for (const [t, o, d] of nested) section(t, o, d, out, reload);
}

/** GitHub's heading anchor for a heading made of one code span. */
function anchor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9_\- ]/g, '').replace(/ /g, '-');
}

/**
 * docs/config.md: every key of the config with its type, default, whether RELOAD applies it
 * ({@link RELOADABLE}) and description. Throws on a key with no reloadable marking, and on a
 * marking that names no key.
 */
export function configReference(schema: JsonSchema = weirJsonSchema(), reloadable: Readonly<Record<string, string>> = RELOADABLE): string {
  const reload: ReloadTable = { of: reloadable, seen: new Set(), missing: [] };
  const top = schema.properties ?? {};
  const out: string[] = [
    '# weir configuration reference',
    '',
    '<!-- Generated from the config schemas by `npm run docs:config`; a unit test fails when this file is stale. -->',
    '',
    'A YAML file with three sections: `general`, `plugins` and `pools`. `weir check --config FILE`',
    'lists every problem with its line; `weir schema` prints the JSON Schema ([weir.schema.json](weir.schema.json)).',
    'For completion and checks in editors that use yaml-language-server (VS Code YAML, Neovim,',
    '…), start the file with a line naming the schema, a path relative to the file:',
    '',
    '```yaml',
    '# yaml-language-server: $schema=../../docs/weir.schema.json',
    '```',
    '',
    'With weir installed from npm, write the schema next to the config (`npx weir schema > weir.schema.json`)',
    'and point at it: `# yaml-language-server: $schema=./weir.schema.json`. Values may use `${ENV}` and',
    '`${ENV:-default}`. A **duration** is `500ms`, `30s`, `10m`, `1h`, `1d`, `1h30m` or a number of',
    'milliseconds; a **size** is `512B`, `64KB`, `1MB`, `2GB` (binary multiples) or a number of bytes.',
    'Unknown keys are errors in every section, with a suggestion when a known key is close.',
    '',
    'The **reloadable** column says what RELOAD (admin console) or SIGHUP does with a changed key:',
    '**yes**: applied at once; **new clients**: clients that log in after the reload get it;',
    '**new server connections**: the pools it concerns are rebuilt (transactions in flight finish',
    'on the old connections); **no (restart)**: read at start only. An invalid file changes nothing.',
    '',
  ];
  if (top.general !== undefined) section('general', objectOf(top.general)!, top.general.description, out, reload);
  const plugins = top.plugins;
  for (const [key, p] of Object.entries(plugins?.properties ?? {})) {
    const obj = objectOf(p);
    if (obj !== undefined) section(`plugins.${key}`, obj, `${p.description ?? ''} \`${key}:\` alone switches it on with the defaults.`, out, reload);
  }
  const pool = top.pools?.additionalProperties;
  if (typeof pool === 'object') section('pools.<name>', pool, top.pools?.description, out, reload);
  if (reload.missing.length > 0) throw new Error(`no reloadable marking (packages/weir/src/reloadable.ts) for: ${reload.missing.join(', ')}`);
  const stale = Object.keys(reloadable).filter((k) => !reload.seen.has(k));
  if (stale.length > 0) throw new Error(`reloadable marking for keys that do not exist: ${stale.join(', ')}`);
  return `${out.join('\n').trimEnd()}\n`;
}

/** The generated files, relative to the repository root. */
export function generatedDocs(): { path: string; text: string }[] {
  const schema = weirJsonSchema();
  return [
    { path: 'docs/config.md', text: configReference(schema) },
    { path: 'docs/weir.schema.json', text: `${JSON.stringify(schema, null, 2)}\n` },
  ];
}
