/**
 * Test-only: random client programs of prepared-statement traffic (named and unnamed Parse,
 * Bind, Describe, Execute, Close, Flush, Sync, simple queries) for the model tests — the
 * unit model over fake backends (model.test.ts) and the e2e model through weir and real
 * PostgreSQL (e2e/prepared/model.test.ts). Programs are written in abstract statement texts
 * (what FakeBackend understands); a `Dialect` renders them as real SQL for PostgreSQL.
 */
import fc from 'fast-check';
import { parse, bind, describe as describeMsg, execute, close, query, SYNC, FLUSH } from '@weir/protocol';
import { paramCount } from './fake-backend.test-util.js';


export const TEXTS = ['SELECT a', 'SELECT b $1', 'SELECT c $1 $2', 'SELECT d $1', 'SELECT e', 'ERR f', 'SELECT FAIL g $1'];
/**
 * With errors in transactions, every statement takes one parameter: in a failed transaction
 * PostgreSQL checks a Bind's parameter count before refusing it (25P02), while weir's hidden
 * Parse, where the server connection lacks the statement, is refused first — a difference only
 * for a Bind that is wrong twice over, which the programs (that cannot know which of their
 * messages the server skipped) would otherwise send.
 */
export const TEXTS_ONE_PARAM = ['SELECT a $1', 'SELECT b $1', 'SELECT c $1', 'SELECT d $1', 'SELECT e $1', 'ERR f $1', 'SELECT FAIL g $1'];
export const TEXTS_COUNT = TEXTS.length;
const NAMES = ['', 's0', 's1', 's2', 's3', 'weird "name"'];
const VALUES = ['1', 'x', 'two words', '', 'boom'];

/** One abstract step of a client program; compiled to protocol messages with `compile`. */
export type Op =
  | { t: 'parse'; name: number; text: number; typed: boolean }
  | { t: 'bind'; name: number; portal: boolean; values: number[]; wrongCount: boolean; describe: boolean }
  | { t: 'describeS'; name: number }
  | { t: 'closeS'; name: number }
  | { t: 'closeP' }
  | { t: 'flush' }
  | { t: 'sync' }
  | { t: 'query'; sql: string; name: number };

export interface Features {
  /** Statement texts that fail to parse or to execute. */
  failures: boolean;
  /** BEGIN / COMMIT / ROLLBACK. */
  transactions: boolean;
  /** DEALLOCATE / DISCARD ALL. */
  sqlCommands: boolean;
  /** Parse of a name the client already has (PostgreSQL: 42P05). */
  duplicateNames: boolean;
  /** A Sync right after every message that may fail (no skipped messages before the Sync). */
  errorsEndGroups?: boolean;
  /** The unnamed statement is used only in the run of messages that parsed it (it lives on one server connection: cache_anonymous off). */
  unnamedPerRun?: boolean;
}

/** Simple queries a program may send (`DEALLOCATE $` names one of NAMES). */
export function sqlChoices(f: Features): string[] {
  const out = ['SELECT 1', ''];
  if (f.failures) out.push('FAIL now');
  if (f.sqlCommands) out.push('DEALLOCATE $', 'DEALLOCATE ALL', 'deallocate prepare all', 'DISCARD ALL');
  if (f.transactions) out.push('BEGIN', 'COMMIT', 'ROLLBACK');
  return out;
}

export function opArb(f: Features): fc.Arbitrary<Op> {
  const name = fc.nat(NAMES.length - 1);
  const text = fc.nat(f.failures ? TEXTS.length - 1 : TEXTS.length - 3);
  const sql = fc.constantFrom(...sqlChoices(f));
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('parse' as const), name, text, typed: fc.boolean() }) },
    {
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('bind' as const), name, portal: fc.boolean(), values: fc.array(fc.nat(f.failures ? 4 : 3), { maxLength: 2 }),
        wrongCount: f.failures ? fc.nat(9).map((n) => n === 0) : fc.constant(false), describe: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('describeS' as const), name }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('closeS' as const), name }) },
    { weight: 1, arbitrary: fc.constant({ t: 'closeP' as const }) },
    { weight: 1, arbitrary: fc.constant({ t: 'flush' as const }) },
    { weight: 6, arbitrary: fc.constant({ t: 'sync' as const }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('query' as const), sql, name }) },
  );
}

/** PostgreSQL's quoting of an identifier for DEALLOCATE. */
function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * Compile a program. The compiler keeps a rough idea of what the client has prepared (ignoring
 * errors) to pick matching parameter counts most of the time. Every extended-protocol run ends
 * with a Sync and a program never ends inside a transaction block.
 */
/**
 * How a program's abstract statement texts and simple queries reach the wire. The default sends
 * them as they are (FakeBackend's language); the e2e model maps each to real SQL with the same
 * `$n` parameters and the same way of failing (at Parse, at execution, or on the value `boom`).
 */
export interface Dialect {
  text(abstract: string): string;
  query(abstract: string): string;
}
export const FAKE_DIALECT: Dialect = { text: (t) => t, query: (q) => q };

export function compile(ops: Op[], f: Features, dialect: Dialect = FAKE_DIALECT): Buffer[] {
  const out: Buffer[] = [];
  const known = new Map<string, string>();
  let unsynced = false;
  const TEXT = f.failures && f.transactions ? TEXTS_ONE_PARAM : TEXTS;
  let inTx = false;
  const endGroup = (): void => {
    if (f.errorsEndGroups) {
      out.push(SYNC);
      unsynced = false;
      if (f.unnamedPerRun && !inTx) known.delete('');
    }
  };
  for (const op of ops) {
    switch (op.t) {
      case 'parse': {
        const n = NAMES[op.name];
        if (n !== '' && known.has(n) && !f.duplicateNames) break;
        const text = TEXT[op.text];
        out.push(parse(n, dialect.text(text), op.typed ? Array.from({ length: paramCount(text) }, () => 25) : []));
        if (n === '' || !known.has(n)) known.set(n, text); // a name in use keeps its statement
        unsynced = true;
        if (text.startsWith('ERR') || (n !== '' && f.duplicateNames)) endGroup();
        break;
      }
      case 'bind': {
        const n = NAMES[op.name];
        if (!f.failures && !known.has(n)) break; // would fail: no such statement
        const text = known.get(n) ?? TEXT[op.name % TEXT.length];
        let count = paramCount(text);
        if (op.wrongCount && !(f.failures && f.transactions)) count++; // (see TEXTS_ONE_PARAM)
        const values = Array.from({ length: count }, (_, i) => {
          const v = op.values[i];
          return v === undefined ? 'v' : VALUES[v];
        });
        const portal = op.portal ? 'p1' : '';
        out.push(bind(portal, n, values));
        if (op.describe) out.push(describeMsg('P', portal));
        out.push(execute(portal));
        if (op.portal) out.push(close('P', portal));
        unsynced = true;
        if (!known.has(n) || op.wrongCount || text.includes('FAIL') || text.startsWith('ERR') || values.includes('boom')) endGroup();
        break;
      }
      case 'describeS':
        if (!f.failures && !known.has(NAMES[op.name])) break;
        out.push(describeMsg('S', NAMES[op.name]));
        unsynced = true;
        if (!known.has(NAMES[op.name]) || known.get(NAMES[op.name])!.startsWith('ERR')) endGroup();
        break;
      case 'closeS':
        out.push(close('S', NAMES[op.name]));
        known.delete(NAMES[op.name]);
        unsynced = true;
        break;
      case 'closeP':
        out.push(close('P', 'p1'));
        unsynced = true;
        break;
      case 'flush':
        out.push(FLUSH);
        unsynced = true; // the session holds the server until a Sync after any extended message
        break;
      case 'sync':
        out.push(SYNC);
        unsynced = false;
        if (f.unnamedPerRun && !inTx) known.delete('');
        break;
      case 'query': {
        if (unsynced) {
          out.push(SYNC);
          unsynced = false;
        }
        const n = NAMES[op.name] === '' ? 's0' : NAMES[op.name];
        const sql = op.sql === 'DEALLOCATE $' ? `DEALLOCATE ${ident(n)}` : op.sql;
        // Inside a transaction block these fail (DISCARD ALL) or may meet a failed transaction
        // (DEALLOCATE), and the program would lose track of its names.
        if (inTx && (sql.startsWith('DEALLOCATE') || sql.startsWith('deallocate') || sql === 'DISCARD ALL')) break;
        if (sql === 'DEALLOCATE ALL' || sql === 'deallocate prepare all' || sql === 'DISCARD ALL') known.clear();
        else if (sql.startsWith('DEALLOCATE')) known.delete(n);
        known.delete(''); // every simple query drops the unnamed statement
        if (sql === 'BEGIN') inTx = true;
        if (sql === 'COMMIT' || sql === 'ROLLBACK') inTx = false;
        out.push(query(dialect.query(sql)));
        break;
      }
    }
  }
  if (unsynced) out.push(SYNC);
  if (inTx) out.push(query(dialect.query('ROLLBACK')));
  return out;
}

/** A program's messages, as short strings. */
export function describeProgram(program: Buffer[]): string[] {
  return program.map((m) => `${String.fromCharCode(m[0])}${m.toString('latin1', 5).replace(/[\x00-\x1f\x7f-\xff]/g, '.').slice(0, 50)}`);
}
