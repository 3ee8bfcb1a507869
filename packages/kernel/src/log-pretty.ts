import { Writable } from 'node:stream';

const LEVEL_WIDTH = 5;
const SKIP = new Set(['time', 'level', 'msg', 'name', 'pid', 'hostname']);

/** One JSON log line → `2026-12-07T03:30:00.000Z INFO  weir: message key=value …`. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(o.level ?? '').toUpperCase().padEnd(LEVEL_WIDTH);
  const head = `${o.time ?? ''} ${level} ${o.name === undefined ? '' : `${o.name}: `}${o.msg ?? ''}`;
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(o)) {
    if (SKIP.has(k) || v === undefined) continue;
    if (k === 'err' && v !== null && typeof v === 'object') {
      const { stack: s, ...rest } = v as Record<string, unknown>;
      if (typeof s === 'string') stack = `\n    ${s.split('\n').join('\n    ')}`;
      fields.push(`err=${JSON.stringify(rest)}`);
      continue;
    }
    fields.push(`${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`);
  }
  return `${head}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}

/** A stream pino writes JSON lines to, writing them on as pretty lines. */
export function prettyStream(out: NodeJS.WritableStream): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const text = rest + chunk.toString();
      const lines = text.split('\n');
      rest = lines.pop()!;
      let s = '';
      for (const l of lines) if (l !== '') s += prettyLine(l);
      if (s !== '') out.write(s);
      done();
    },
  });
}
