import type { z, ZodType } from 'zod';
import { ErrorCodes, WeirError } from '../errors.js';
import { keysAt } from './keys.js';
import { closest } from './levenshtein.js';
import { formatPath, lineOf, type KeyPath, type YamlSource } from './source.js';

/** One problem in a config, located. */
export interface ConfigProblem {
  file: string;
  line: number | undefined;
  path: string;
  message: string;
  /** A WEIR_E_ code when the problem is not a plain invalid value (WEIR_E_CONFIG_INVALID). */
  code?: string;
}

export function problemText(p: ConfigProblem): string {
  return `${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.path}: ${p.message}`;
}

/** "unknown key", with "did you mean `x`?" when a known key is a small edit away. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  return near === undefined ? 'unknown key' : `unknown key, did you mean \`${near}\`?`;
}

/**
 * Turn zod issues into located problems. `prefix` is prepended to every issue path; `schema`
 * (the one that raised the issues) lets an unknown key name the known key it is closest to.
 */
export function formatZodIssues(
  issues: readonly z.core.$ZodIssue[],
  src: YamlSource | undefined,
  prefix: KeyPath = [],
  file = src?.file ?? '<config>',
  schema?: ZodType,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as PropertyKey[])];
    if (issue.code === 'unrecognized_keys') {
      const known = schema === undefined ? [] : keysAt(schema, issue.path as PropertyKey[]);
      for (const key of issue.keys) {
        const p = [...path, key];
        out.push({ file, line: src && lineOf(src, p), path: formatPath(p), message: unknownKeyMessage(key, known) });
      }
      continue;
    }
    out.push({ file, line: src && lineOf(src, path), path: formatPath(path), message: issue.message });
  }
  return out;
}

/** Problems sorted by file and line (unlocated last), so a report reads top to bottom. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.file.localeCompare(b.p.file) || (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * One WeirError listing every problem, one per line; details name the first and hold them all.
 * Its code: `code` if given, else the code all problems share, else WEIR_E_CONFIG_INVALID.
 */
export function configError(problems: ConfigProblem[], code?: string): WeirError {
  const first = problems[0]!;
  if (code === undefined) {
    const codes = new Set(problems.map((p) => p.code ?? ErrorCodes.CONFIG_INVALID));
    code = codes.size === 1 ? [...codes][0]! : ErrorCodes.CONFIG_INVALID;
  }
  return new WeirError(code, problems.map(problemText).join('\n'), {
    file: first.file,
    path: first.path,
    line: first.line,
    problems,
  });
}
