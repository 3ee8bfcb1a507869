import { LRUCache } from 'lru-cache';
import { parse } from '@weir/protocol';

/** A server-side statement: one per distinct (query text, parameter types), shared by every client. */
export interface Statement {
  readonly name: string;
  readonly query: string;
  readonly paramTypes: readonly number[];
  /** The Parse message that prepares it under its server name. */
  readonly parse: Buffer;
  /** What it counts against max_statement_bytes and max_client_statement_bytes. */
  readonly bytes: number;
  /** A server has accepted its Parse once: the query text and types are valid. */
  verified: boolean;
  /**
   * Its plan went stale (a Bind got 0A000 "cached plan must not change result type", after an
   * ALTER TABLE of what it reads): forgotten by the registry; clients naming it are moved to a
   * freshly prepared statement of the same text at their next use.
   */
  stale: boolean;
}

/**
 * The bytes a statement of this shape counts: its query text (UTF-8) and parameter types, as in
 * the Parse message that carries it. weir holds the text about twice (the text and the Parse).
 */
export function statementBytes(query: string, paramTypes: readonly number[]): number {
  return Buffer.byteLength(query) + 4 * paramTypes.length;
}

export interface RegistryLimits {
  /** Distinct statement shapes remembered. */
  maxStatements: number;
  /** Their bytes, over all of them (statementBytes). */
  maxBytes: number;
}

/**
 * Interns statements by query shape and gives each a pooler-unique server name. Bounded by count
 * and by bytes (LRU): the least recently used shapes are forgotten first. A client still naming a
 * forgotten statement keeps it (within its own max_client_statement_bytes) until it lets go.
 */
export class StatementRegistry {
  private readonly byShape: LRUCache<string, Statement>;
  private seq = 0;
  /** Shapes forgotten to stay within the bounds. */
  evictions = 0;

  constructor(readonly limits: RegistryLimits, private readonly prefix = 'weir_') {
    this.byShape = new LRUCache({
      max: limits.maxStatements,
      maxSize: limits.maxBytes,
      sizeCalculation: (s) => Math.max(1, s.bytes),
      dispose: (_s, _k, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  /** The statement of this shape if known, without creating it or touching its recency. */
  peek(query: string, paramTypes: readonly number[]): Statement | undefined {
    return this.byShape.peek(shapeKey(query, paramTypes));
  }

  intern(query: string, paramTypes: readonly number[]): Statement {
    const key = shapeKey(query, paramTypes);
    let s = this.byShape.get(key);
    if (s === undefined) {
      const name = `${this.prefix}${(++this.seq).toString(36)}`;
      s = { name, query, paramTypes: [...paramTypes], parse: parse(name, query, [...paramTypes]), bytes: statementBytes(query, paramTypes), verified: false, stale: false };
      // One larger than the whole budget is used but not remembered.
      this.byShape.set(key, s);
    }
    return s;
  }

  /** Forget a statement whose plan went stale: the next intern of its shape makes a new one. */
  forget(s: Statement): void {
    s.stale = true;
    const key = shapeKey(s.query, s.paramTypes);
    if (this.byShape.peek(key) === s) this.byShape.delete(key);
  }

  get size(): number {
    return this.byShape.size;
  }

  /** Bytes of the statements remembered. */
  get bytes(): number {
    return this.byShape.calculatedSize;
  }
}

function shapeKey(query: string, paramTypes: readonly number[]): string {
  return paramTypes.length === 0 ? query : `${paramTypes.join(',')}\0${query}`;
}
