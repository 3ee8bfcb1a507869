/**
 * One case of the e2e prepared-statements model: several clients' programs played at once over
 * raw sockets through weir, each also played alone on its own direct connection to PostgreSQL
 * (the reference), and the answers compared message for message after normalising what may
 * legitimately differ (see `normalise`).
 */
import { rawLogin, USERS } from '../helpers.js';
import { splitAt } from '../fuzz/wire.js';
import { describeProgram } from '../../plugins/prepared-statements/src/programs.test-util.js';
import type { Msg1 } from './raw.js';

export interface ClientCase {
  /** The program's messages (compiled with the PostgreSQL dialect). */
  program: Buffer[];
  /** Send every message ahead of the answers; else wait for each ReadyForQuery before the next run of messages. */
  pipelined: boolean;
  /** Where the bytes are cut into separate writes (offsets modulo the length of what is sent). */
  cuts: number[];
}

export interface Endpoint {
  port: number;
  database: string;
}

export interface Played {
  messages: Msg1[];
  /** Set when the answers stopped coming (or the login failed): what was seen is in `messages`. */
  error?: string;
}

/** A message that has not come after this long means a hang. */
const MESSAGE_BOUND_MS = 20_000;
/** Bounded: no program here gets near this many answers. */
const MAX_MESSAGES = 5_000;

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Byte offsets where each run of messages (ended by Sync or Query: one ReadyForQuery each) ends. */
function runEnds(program: Buffer[]): number[] {
  const ends: number[] = [];
  let at = 0;
  for (const m of program) {
    at += m.length;
    if (m[0] === 0x53 || m[0] === 0x51) ends.push(at);
  }
  return ends;
}

/** Log in (md5), play the program its way, collect every answer up to its last ReadyForQuery. */
export async function play(to: Endpoint, c: ClientCase): Promise<Played> {
  const messages: Msg1[] = [];
  let s: Awaited<ReturnType<typeof rawLogin>>;
  try {
    s = await rawLogin(to.port, USERS.md5, to.database);
  } catch (e) {
    return { messages, error: `login: ${(e as Error).message}` };
  }
  s.socket.setNoDelay(true);
  const bytes = Buffer.concat(c.program);
  const ends = runEnds(c.program);
  let readies = 0;
  const readUntil = async (n: number) => {
    while (readies < n && messages.length < MAX_MESSAGES) {
      const m = await s.readMsg(MESSAGE_BOUND_MS);
      messages.push({ type: m.type, body: Buffer.from(m.body) });
      if (m.type === 'Z') readies++;
    }
  };
  const send = async (from: number, to: number) => {
    for (const piece of splitAt(bytes.subarray(from, to), c.cuts)) {
      s.socket.write(piece);
      await tick(); // so the pieces tend to arrive apart
    }
  };
  try {
    if (c.pipelined) {
      const reading = readUntil(ends.length);
      reading.catch(() => {});
      await send(0, bytes.length);
      await reading;
    } else {
      let from = 0;
      for (let i = 0; i < ends.length; i++) {
        await send(from, ends[i]);
        from = ends[i];
        await readUntil(i + 1);
      }
    }
    return { messages };
  } catch (e) {
    return { messages, error: `${(e as Error).message} after ${messages.length} messages (${readies} of ${ends.length} ReadyForQuery)` };
  } finally {
    s.socket.end(Buffer.from([0x58, 0, 0, 0, 4])); // Terminate
    s.socket.destroy();
  }
}

function fields(body: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let p = 0;
  while (p < body.length && body[p] !== 0) {
    const e = body.indexOf(0, p + 1);
    out.push([String.fromCharCode(body[p]!), body.toString('utf8', p + 1, e)]);
    p = e + 1;
  }
  return out;
}

/**
 * Messages as comparable strings. What is normalised, and why:
 * - ErrorResponse / NoticeResponse: the fields F, L and R (PostgreSQL's C source file, line and
 *   routine) are left out — they say where in PostgreSQL's code an error was raised, not what
 *   the client is told, and an error weir's plugin raises itself carries none. In the message
 *   (M) a statement name is blanked ("?"): weir names its own statement (`weir_3`) where
 *   PostgreSQL names the client's (42P05, 26000 — the plugin README's documented difference),
 *   and the unit model blanks them too. Everything else (severity, SQLSTATE, detail, hint,
 *   position, context) must match.
 * - Nothing else: row descriptions, rows, command tags, ReadyForQuery status bytes,
 *   ParseComplete/BindComplete/CloseComplete/NoData/EmptyQueryResponse are compared as bytes.
 *   (No ParameterStatus or BackendKeyData comes after login in these programs; one that did
 *   would be a difference.)
 */
export function normalise(ms: Msg1[]): string[] {
  return ms.map((m) => {
    if (m.type !== 'E' && m.type !== 'N') return `${m.type} ${m.body.toString('latin1').replace(/[\x00-\x1f\x7f-\xff]/g, '.')}`;
    const kept = fields(m.body).filter(([k]) => k !== 'F' && k !== 'L' && k !== 'R').map(([k, v]) => {
      if (k !== 'M') return `${k}=${v}`;
      return `M=${v.replace(/unnamed prepared statement/g, 'prepared statement "?"')
        .replace(/prepared statement ".*"( does not exist| already exists| requires)/g, 'prepared statement "?"$1')}`;
    });
    return `${m.type} ${kept.join(' | ')}`;
  });
}

/** Compare what each client got through weir with what it got alone on PostgreSQL: one readable report per client that differs. */
export function compare(cases: ClientCase[], viaWeir: Played[], direct: Played[]): string[] {
  const out: string[] = [];
  cases.forEach((c, i) => {
    const got = normalise(viaWeir[i].messages);
    const want = normalise(direct[i].messages);
    const problems: string[] = [];
    if (direct[i].error) problems.push(`the reference itself failed: ${direct[i].error}`);
    if (viaWeir[i].error) problems.push(`through weir: ${viaWeir[i].error}`);
    let at = 0;
    while (at < got.length && at < want.length && got[at] === want[at]) at++;
    if (problems.length === 0 && at === got.length && at === want.length) return;
    const window = (xs: string[]) => xs.slice(Math.max(0, at - 3), at + 4).map((x, k) => `      ${Math.max(0, at - 3) + k === at ? '>' : ' '} ${x.slice(0, 160)}`);
    out.push([
      `client ${i} (${c.pipelined ? 'pipelined' : 'waits for each ReadyForQuery'}, cuts ${JSON.stringify(c.cuts)}):`,
      ...problems.map((p) => `    ${p}`),
      `    program:`,
      ...describeProgram(c.program).map((m) => `      ${m}`),
      `    first difference at answer ${at} (of ${got.length} through weir, ${want.length} direct)`,
      `    through weir:`, ...window(got),
      `    direct:`, ...window(want),
    ].join('\n'));
  });
  return out;
}
