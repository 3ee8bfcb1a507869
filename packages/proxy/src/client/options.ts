/**
 * The startup packet's `options` parameter, read as PostgreSQL reads it: words split on
 * whitespace (a backslash makes the next character literal), `-c name=value`, `-cname=value`
 * and `--name=value` (dashes in the name become underscores). Names are case-insensitive.
 */
export class OptionsError extends Error {
  /** The SQLSTATE PostgreSQL refuses such options with (syntax_error). */
  readonly sqlstate = '42601';
}

/** Split like PostgreSQL's pg_split_opts. */
export function splitOptions(options: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const ch = options[i]!;
    if (ch === '\\' && i + 1 < options.length) {
      word += options[++i];
      inWord = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function setting(text: string, how: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new OptionsError(eq === 0 ? `invalid command-line argument for server process: ${how}${text}` : `${how} ${text} requires a value`);
  return [text.slice(0, eq).replace(/-/g, '_').toLowerCase(), text.slice(eq + 1)];
}

/** The settings an `options` string asks for, in order (a later one wins); OptionsError for anything else. */
export function parseOptions(options: string): Map<string, string> {
  const out = new Map<string, string>();
  const words = splitOptions(options);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let pair: [string, string];
    if (w === '-c') {
      const next = words[++i];
      if (next === undefined) throw new OptionsError('-c requires a value');
      pair = setting(next, '-c');
    } else if (w.startsWith('-c')) {
      pair = setting(w.slice(2), '-c');
    } else if (w.startsWith('--') && w.length > 2) {
      pair = setting(w.slice(2), '--');
    } else {
      // PostgreSQL also takes postmaster switches here (-B, -d, …); none is a per-client setting.
      throw new OptionsError(`invalid command-line argument for server process: ${w}`);
    }
    out.set(pair[0], pair[1]);
  }
  return out;
}
