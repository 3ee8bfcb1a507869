/**
 * An in-memory stand-in for one PostgreSQL backend (tests only): the extended and simple query
 * protocols as far as prepared statements go, with PostgreSQL's rules for named and unnamed
 * statements and portals, errors (skip to Sync in the extended protocol), implicit and explicit
 * transactions. A statement "returns" one row derived from its text and parameters, so a client
 * that gets the wrong statement gets the wrong row.
 *
 * Statement texts: anything starting with `ERR` fails to parse (42601); a text containing `FAIL`
 * fails when executed (22012), as does any execution with a parameter equal to `boom`;
 * parameters are `$1`, `$2`… Simple queries: '', BEGIN, COMMIT, ROLLBACK, DEALLOCATE name|ALL,
 * DISCARD ALL, FAIL…, anything else returns a row.
 */
import {
  Framer, Msg, Writer, decodeQuery, decodeParse, decodeDescribe, decodeClose, decodeExecute,
  errorResponse, noticeResponse, readyForQuery, rowDescription, dataRow, commandComplete,
  PARSE_COMPLETE, BIND_COMPLETE, CLOSE_COMPLETE, EMPTY_QUERY_RESPONSE,
} from '@weir/protocol';

export interface FakeStatement {
  readonly query: string;
  readonly paramTypes: readonly number[];
  readonly nParams: number;
}

interface Portal {
  readonly stmt: FakeStatement;
  readonly params: Array<string | null>;
}

class PgError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const ROW_DESC = rowDescription([{ name: 'r' }]);

function stmtLabel(name: string): string {
  return name === '' ? 'unnamed prepared statement' : `prepared statement "${name}"`;
}

export function paramCount(query: string): number {
  let n = 0;
  for (const m of query.matchAll(/\$(\d+)/g)) n = Math.max(n, Number(m[1]));
  return n;
}

/** The row a statement returns for these parameters. */
export function rowOf(query: string, params: ReadonlyArray<string | null>): string {
  return `${query}|${params.map((p) => (p === null ? 'NULL' : p)).join(',')}`;
}

function parameterDescription(types: readonly number[]): Buffer {
  const w = Writer.typed(Msg.ParameterDescription, 2 + 4 * types.length).i16(types.length);
  for (const t of types) w.u32(t);
  return w.done();
}

function decodeBindFull(buf: Buffer, p: number, end: number): { portal: string; statement: string; params: Array<string | null> } {
  const cstr = (): string => {
    const e = buf.indexOf(0, p);
    const s = buf.toString('utf8', p, e);
    p = e + 1;
    return s;
  };
  const portal = cstr();
  const statement = cstr();
  const nf = buf.readInt16BE(p);
  p += 2 + 2 * nf;
  const n = buf.readInt16BE(p);
  p += 2;
  const params: Array<string | null> = [];
  for (let i = 0; i < n; i++) {
    const len = buf.readInt32BE(p);
    p += 4;
    if (len < 0) params.push(null);
    else {
      params.push(buf.toString('utf8', p, p + len));
      p += len;
    }
  }
  const nr = buf.readInt16BE(p);
  p += 2 + 2 * nr;
  if (p !== end) throw new Error('fake backend: malformed Bind');
  return { portal, statement, params };
}

export class FakeBackend {
  readonly named = new Map<string, FakeStatement>();
  unnamed: FakeStatement | null = null;
  readonly portals = new Map<string, Portal>();
  tx: 'I' | 'T' | 'E' = 'I';
  /** Most named statements this backend ever held at once. */
  maxNamed = 0;
  /** Messages executed (not skipped), by type letter. */
  readonly executed = new Map<string, number>();
  private skipping = false;
  private readonly framer = new Framer();
  private out: Buffer[] = [];

  constructor(readonly id = 0) {}

  /** Feed client bytes (any chunking); answers accumulate until `take()`. */
  receive(bytes: Buffer): void {
    const f = this.framer;
    f.push(bytes);
    while (f.next()) this.message(f.type, f.buffer, f.bodyStart, f.end);
  }

  take(): Buffer {
    const b = Buffer.concat(this.out);
    this.out = [];
    return b;
  }

  get atBoundary(): boolean {
    return this.framer.pendingBytes() === 0;
  }

  private emit(b: Buffer): void {
    this.out.push(b);
  }

  private count(type: number): void {
    const k = String.fromCharCode(type);
    this.executed.set(k, (this.executed.get(k) ?? 0) + 1);
  }

  private endOfTransaction(): void {
    this.portals.clear();
  }

  private abortedCheck(): void {
    if (this.tx === 'E') throw new PgError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
  }

  private message(type: number, buf: Buffer, start: number, end: number): void {
    if (type === Msg.Sync) {
      this.skipping = false;
      if (this.tx === 'I') this.endOfTransaction();
      this.emit(readyForQuery(this.tx));
      return;
    }
    if (type === Msg.Flush) return;
    if (this.skipping) return;
    this.count(type);
    try {
      switch (type) {
        case Msg.Query:
          this.simple(decodeQuery(buf, start, end));
          if (this.tx === 'I') this.endOfTransaction();
          this.emit(readyForQuery(this.tx));
          return;
        case Msg.Parse: return this.parse(buf, start, end);
        case Msg.Bind: return this.bind(buf, start, end);
        case Msg.Describe: return this.describe(buf, start, end);
        case Msg.Execute: return this.execute(buf, start, end);
        case Msg.Close: return this.close(buf, start, end);
        default: throw new Error(`fake backend: unexpected message ${String.fromCharCode(type)}`);
      }
    } catch (e) {
      if (!(e instanceof PgError)) throw e;
      this.emit(errorResponse({ code: e.code, message: e.message }));
      if (this.tx === 'T') this.tx = 'E';
      if (type === Msg.Query) {
        // A simple query drops the unnamed statement even when it fails.
        this.unnamed = null;
        if (this.tx === 'I') this.endOfTransaction();
        this.emit(readyForQuery(this.tx));
      } else this.skipping = true;
    }
  }

  private statement(name: string): FakeStatement {
    const s = name === '' ? this.unnamed : this.named.get(name);
    if (!s) throw new PgError('26000', `${stmtLabel(name)} does not exist`);
    return s;
  }

  private parse(buf: Buffer, start: number, end: number): void {
    const p = decodeParse(buf, start, end);
    if (p.name === '') this.unnamed = null;
    if (p.query.startsWith('ERR')) throw new PgError('42601', `syntax error at or near "ERR"`);
    this.abortedCheck();
    if (p.name !== '' && this.named.has(p.name)) throw new PgError('42P05', `prepared statement "${p.name}" already exists`);
    const s: FakeStatement = { query: p.query, paramTypes: p.paramTypes, nParams: Math.max(paramCount(p.query), p.paramTypes.length) };
    if (p.name === '') this.unnamed = s;
    else {
      this.named.set(p.name, s);
      this.maxNamed = Math.max(this.maxNamed, this.named.size);
    }
    this.emit(PARSE_COMPLETE);
  }

  private bind(buf: Buffer, start: number, end: number): void {
    const b = decodeBindFull(buf, start, end);
    const s = this.statement(b.statement);
    if (b.params.length !== s.nParams) {
      throw new PgError('08P01', `bind message supplies ${b.params.length} parameters, but prepared statement "${b.statement}" requires ${s.nParams}`);
    }
    this.abortedCheck();
    if (b.portal !== '' && this.portals.has(b.portal)) throw new PgError('42P03', `cursor "${b.portal}" already exists`);
    this.portals.set(b.portal, { stmt: s, params: b.params });
    this.emit(BIND_COMPLETE);
  }

  private describe(buf: Buffer, start: number, end: number): void {
    const d = decodeDescribe(buf, start, end);
    if (d.kind === 'S') {
      const s = this.statement(d.name);
      this.abortedCheck();
      const types = Array.from({ length: s.nParams }, (_, i) => s.paramTypes[i] || 25);
      this.emit(parameterDescription(types));
      this.emit(ROW_DESC);
    } else {
      if (!this.portals.has(d.name)) throw new PgError('34000', `portal "${d.name}" does not exist`);
      this.abortedCheck();
      this.emit(ROW_DESC);
    }
  }

  private execute(buf: Buffer, start: number, end: number): void {
    const e = decodeExecute(buf, start, end);
    const portal = this.portals.get(e.portal);
    if (!portal) throw new PgError('34000', `portal "${e.portal}" does not exist`);
    this.abortedCheck();
    if (portal.stmt.query.includes('FAIL') || portal.params.includes('boom')) throw new PgError('22012', 'division by zero');
    this.emit(dataRow([rowOf(portal.stmt.query, portal.params)]));
    this.emit(commandComplete('SELECT 1'));
  }

  private close(buf: Buffer, start: number, end: number): void {
    const c = decodeClose(buf, start, end);
    if (c.kind === 'S') {
      if (c.name === '') this.unnamed = null;
      else this.named.delete(c.name);
    } else this.portals.delete(c.name);
    this.emit(CLOSE_COMPLETE);
  }

  private simple(sql: string): void {
    // PostgreSQL drops the unnamed statement at every simple query, and runs it in the unnamed portal.
    this.unnamed = null;
    this.portals.delete('');
    const text = sql.trim().replace(/;$/, '').trim();
    const upper = text.toUpperCase();
    if (text === '') return this.emit(EMPTY_QUERY_RESPONSE);
    if (upper === 'COMMIT' || upper === 'ROLLBACK') {
      const tag = upper === 'COMMIT' && this.tx !== 'E' ? 'COMMIT' : 'ROLLBACK';
      if (this.tx === 'I') this.emit(noticeResponse({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' }));
      this.tx = 'I';
      this.endOfTransaction();
      return this.emit(commandComplete(tag));
    }
    this.abortedCheck();
    if (upper === 'BEGIN') {
      if (this.tx === 'T') this.emit(noticeResponse({ severity: 'WARNING', code: '25001', message: 'there is already a transaction in progress' }));
      this.tx = 'T';
      return this.emit(commandComplete('BEGIN'));
    }
    let m: RegExpExecArray | null;
    if ((m = /^DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|[^\s;"]+)$/i.exec(text))) {
      const raw = m[1];
      if (raw.toUpperCase() === 'ALL') {
        this.named.clear();
        return this.emit(commandComplete('DEALLOCATE ALL'));
      }
      const name = raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
      if (!this.named.has(name)) throw new PgError('26000', `prepared statement "${name}" does not exist`);
      this.named.delete(name);
      return this.emit(commandComplete('DEALLOCATE'));
    }
    if (upper === 'DISCARD ALL') {
      if (this.tx !== 'I') throw new PgError('25001', 'DISCARD ALL cannot run inside a transaction block');
      this.named.clear();
      this.portals.clear();
      return this.emit(commandComplete('DISCARD ALL'));
    }
    if (upper.startsWith('FAIL')) throw new PgError('22012', 'division by zero');
    this.emit(ROW_DESC);
    this.emit(dataRow([rowOf(text, [])]));
    this.emit(commandComplete('SELECT 1'));
  }
}

export interface DecodedMessage {
  type: string;
  /** The body, hex, or for ErrorResponse its code and message with statement names blanked. */
  body: string;
}

/**
 * A server → client byte stream as messages, statement names (which clients cannot see in
 * any other place) blanked out of error messages.
 */
export function normalise(stream: Buffer): DecodedMessage[] {
  const f = new Framer();
  f.push(stream);
  const out: DecodedMessage[] = [];
  while (f.next()) {
    const type = String.fromCharCode(f.type);
    if (f.type === Msg.ErrorResponse) {
      const fields = new Map<string, string>();
      let p = f.bodyStart;
      while (p < f.end && f.buffer[p] !== 0) {
        const k = String.fromCharCode(f.buffer[p]);
        const e = f.buffer.indexOf(0, p + 1);
        fields.set(k, f.buffer.toString('utf8', p + 1, e));
        p = e + 1;
      }
      const msg = (fields.get('M') ?? '')
        .replace(/unnamed prepared statement/g, 'prepared statement "?"')
        .replace(/prepared statement ".*"( does not exist| already exists| requires)/g, 'prepared statement "?"$1');
      out.push({ type, body: `${fields.get('C')} ${msg}` });
    } else out.push({ type, body: f.buffer.toString('latin1', f.bodyStart, f.end) });
  }
  if (f.pendingBytes() !== 0) out.push({ type: '?', body: `${f.pendingBytes()} trailing bytes` });
  return out;
}
