import { readFileSync } from 'node:fs';
import { parse as parseYamlScalar } from 'yaml';
import type { ZodType } from 'zod';
import { ErrorCodes, WeirError, messageOf } from '../errors.js';
import { interpolateEnv } from './env.js';
import { configError, formatZodIssues, type ConfigProblem } from './issues.js';
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

/**
 * Parse YAML (keeping line numbers), interpolate `${ENV}` in values, validate with `schema`.
 * Throws WeirError WEIR_E_CONFIG_INVALID: "FILE:LINE: key.path: problem" (one line per problem).
 */
export function parseConfig<T>(text: string, schema: ZodType<T>, file?: string, env: NodeJS.ProcessEnv = process.env): T {
  const src = readYaml(text, file);
  const yaml = yamlProblems(src);
  if (yaml.length > 0) throw configError(yaml);
  const envProblems = interpolate(src, env);
  if (envProblems.length > 0) throw configError(envProblems);
  const value: unknown = src.doc.toJS({ maxAliasCount: 1000 }) ?? {};
  const result = schema.safeParse(value);
  if (!result.success) throw configError(formatZodIssues(result.error.issues, src));
  return result.data;
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
