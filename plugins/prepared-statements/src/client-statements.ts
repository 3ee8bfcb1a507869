import type { Statement } from './statements.js';

/** What a name costs beyond its statement: its own characters and this much bookkeeping. */
const NAME_BYTES = 64;

function cost(name: string, stmt: Statement): number {
  return stmt.bytes + NAME_BYTES + name.length;
}

/**
 * What one client has prepared, under its own names, and the bytes those names hold
 * (each name counts its statement's bytes, its own length and 64, against max_client_statement_bytes). Every change of a name goes
 * through here so the count stays true; the whole object goes when the client's session does.
 */
export class ClientStatements {
  private named = new Map<string, Statement>();
  /** When the client's Parse of each name was handled (the plugin's Parse counter): the server copy it runs must be at least as new. */
  private readonly since = new Map<string, number>();
  private unnamedStmt: Statement | null = null;
  /** Bytes of the statements under the client's names, the unnamed one included. */
  bytes = 0;
  /** Names whose Parse is not answered yet (it may still fail): how many such Parses, and the sync point (ctx.syncs) of the last. */
  readonly parsing = new Map<string, { count: number; syncs: number }>();
  /** A Parse of this client was refused for max_client_statement_bytes (logged once). */
  refused = false;

  get(name: string): Statement | null {
    return name === '' ? this.unnamedStmt : this.named.get(name) ?? null;
  }

  has(name: string): boolean {
    return this.named.has(name);
  }

  /** The bytes the client would hold with `name` naming a statement of `bytes` bytes. */
  bytesWith(name: string, bytes: number): number {
    const old = this.get(name);
    return this.bytes - (old === null ? 0 : cost(name, old)) + bytes + NAME_BYTES + name.length;
  }

  /** When the client's Parse of `name` was handled (0: unknown, any server copy will do). */
  parsedAt(name: string): number {
    return this.since.get(name) ?? 0;
  }

  /** `name` names `stmt` from a Parse handled at `at`. */
  parsed(name: string, stmt: Statement, at: number): void {
    this.set(name, stmt);
    this.since.set(name, at);
  }

  set(name: string, stmt: Statement | null): void {
    const old = this.get(name);
    if (old === stmt) return;
    if (old !== null) this.bytes -= cost(name, old);
    if (stmt !== null) this.bytes += cost(name, stmt);
    else this.since.delete(name);
    if (name === '') this.unnamedStmt = stmt;
    else if (stmt === null) this.named.delete(name);
    else this.named.set(name, stmt);
  }

  /** Take every named statement away (DISCARD ALL, DEALLOCATE ALL); what they were, for restore(). */
  takeNamed(): Map<string, Statement> {
    const before = this.named;
    this.named = new Map();
    for (const [name, s] of before) {
      this.bytes -= cost(name, s);
      this.since.delete(name);
    }
    return before;
  }

  /** Take one named statement away; what it was, for restore(). */
  takeOne(name: string): Map<string, Statement> {
    const stmt = this.named.get(name);
    const before = new Map<string, Statement>();
    if (stmt !== undefined) {
      before.set(name, stmt);
      this.set(name, null);
    }
    return before;
  }

  /** Put back names a message took away, unless the client has named them again since. */
  restore(before: Map<string, Statement>): void {
    for (const [name, stmt] of before) if (!this.named.has(name)) this.set(name, stmt);
  }
}
