import { readFileSync } from 'node:fs';
import { parse as parseYamlScalar } from 'yaml';
import type { ZodType } from 'zod';
import { ErrorCodes, WeirError, messageOf } from '../errors.js';
import { interpolateEnv } from './env.js';
import { configError, formatZodIssues, sortProblems, type ConfigProblem } from './issues.js';
import { eachScalar, formatPath, lineOfNode, readYaml, type YamlSource } from './source.js';

/** An interpolated plain (unquoted) scalar is typed again: `port: ${PORT}` gives a number. */
function retype(text: string): unknown {
  if (text === '') return text;
  try {
    const v: unknown = parseYamlScalar(text);
    return typeof v === 'number' || typeof v === 'boolean' ? v : text;
  } catch {
    return text;
  }
}

function yamlProblems(src: YamlSource): ConfigProblem[] {
  return src.doc.errors.map((e) => ({
    file: src.file,
    line: src.lines.linePos(e.pos[0]).line,
    path: 'yaml',
    message: e.message.split('\n')[0]!,
  }));
}

function interpolate(src: YamlSource, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  eachScalar(src, (node, path) => {
    if (typeof node.value !== 'string' || !node.value.includes('${')) return;
    try {
      const text = interpolateEnv(node.value, env);
      node.value = node.type === 'PLAIN' ? retype(text) : text;
    } catch (err) {
      problems.push({ file: src.file, line: lineOfNode(src, node), path: formatPath(path), message: messageOf(err) });
    }
  });
  return problems;
}

/** A config text read: its YAML source, the plain value (env interpolated), and YAML/env problems. */
export interface ConfigText {
  src: YamlSource;
  value: unknown;
  problems: ConfigProblem[];
}

/** Parse YAML (keeping line numbers) and interpolate `${ENV}` in values; problems are returned, not thrown. */
export function readConfigText(text: string, file?: string, env: NodeJS.ProcessEnv = process.env): ConfigText {
  const src = readYaml(text, file);
  const yaml = yamlProblems(src);
  if (yaml.length > 0) return { src, value: undefined, problems: yaml };
  const problems = interpolate(src, env);
  const value: unknown = problems.length > 0 ? undefined : src.doc.toJS({ maxAliasCount: 1000 }) ?? {};
  return { src, value, problems };
}

/** Validate a read value with `schema`: the parsed value, or every problem located. */
export function checkValue<T>(value: unknown, schema: ZodType<T>, src: YamlSource): { ok: true; value: T } | { ok: false; problems: ConfigProblem[] } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: sortProblems(formatZodIssues(result.error.issues, src, [], src.file, schema)) };
}

/**
 * Parse YAML (keeping line numbers), interpolate `${ENV}` in values, validate with `schema`.
 * Throws WeirError WEIR_E_CONFIG_INVALID: "FILE:LINE: key.path: problem" (one line per problem).
 */
export function parseConfig<T>(text: string, schema: ZodType<T>, file?: string, env: NodeJS.ProcessEnv = process.env): T {
  const read = readConfigText(text, file, env);
  if (read.problems.length > 0) throw configError(read.problems);
  const checked = checkValue(read.value, schema, read.src);
  if (!checked.ok) throw configError(checked.problems);
  return checked.value;
}

/** Read and parse a config file. Unreadable: WEIR_E_CONFIG_READ. A plain-object result gets `file` set. */
export function loadConfigFile<T>(file: string, schema: ZodType<T>, env?: NodeJS.ProcessEnv): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WeirError(ErrorCodes.CONFIG_READ, `${file}: cannot read config: ${messageOf(err)}`, { file }, { cause: err });
  }
  const value = parseConfig(text, schema, file, env);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && !('file' in value)) {
    return { ...value, file } as T;
  }
  return value;
}
