import type { z } from 'zod';
import { ErrorCodes, WeirError } from '../errors.js';
import { formatPath, lineOf, type KeyPath, type YamlSource } from './source.js';

/** One problem in a config, located. */
export interface ConfigProblem {
  file: string;
  line: number | undefined;
  path: string;
  message: string;
}

export function problemText(p: ConfigProblem): string {
  return `${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.path}: ${p.message}`;
}

/** Turn zod issues into located problems. `prefix` is prepended to every issue path. */
export function formatZodIssues(
  issues: readonly z.core.$ZodIssue[],
  src: YamlSource | undefined,
  prefix: KeyPath = [],
  file = src?.file ?? '<config>',
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as PropertyKey[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const p = [...path, key];
        out.push({ file, line: src && lineOf(src, p), path: formatPath(p), message: 'unknown key' });
      }
      continue;
    }
    out.push({ file, line: src && lineOf(src, path), path: formatPath(path), message: issue.message });
  }
  return out;
}

/** One WeirError WEIR_E_CONFIG_INVALID listing every problem, one per line; details name the first. */
export function configError(problems: ConfigProblem[], code: string = ErrorCodes.CONFIG_INVALID): WeirError {
  const first = problems[0]!;
  return new WeirError(code, problems.map(problemText).join('\n'), {
    file: first.file,
    path: first.path,
    line: first.line,
    problems,
  });
}
