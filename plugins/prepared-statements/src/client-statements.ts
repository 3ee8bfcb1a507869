import type { Statement } from './statements.js';

/**
 * What one client has prepared, under its own names, and the bytes those names hold
 * (counted once per name, against max_client_statement_bytes). Every change of a name goes
 * through here so the count stays true; the whole object goes when the client's session does.
 */
export class ClientStatements {
  private named = new Map<string, Statement>();
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
    return this.bytes - (this.get(name)?.bytes ?? 0) + bytes;
  }

  set(name: string, stmt: Statement | null): void {
    const old = this.get(name);
    if (old === stmt) return;
    if (old !== null) this.bytes -= old.bytes;
    if (stmt !== null) this.bytes += stmt.bytes;
    if (name === '') this.unnamedStmt = stmt;
    else if (stmt === null) this.named.delete(name);
    else this.named.set(name, stmt);
  }

  /** Take every named statement away (DISCARD ALL, DEALLOCATE ALL); what they were, for restore(). */
  takeNamed(): Map<string, Statement> {
    const before = this.named;
    this.named = new Map();
    for (const s of before.values()) this.bytes -= s.bytes;
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
