import { LRUCache } from 'lru-cache';
import { parse } from '@weir/protocol';

/** A server-side statement: one per distinct (query text, parameter types), shared by every client. */
export interface Statement {
  readonly name: string;
  readonly query: string;
  readonly paramTypes: readonly number[];
  /** The Parse message that prepares it under its server name. */
  readonly parse: Buffer;
  /** A server has accepted its Parse once: the query text and types are valid. */
  verified: boolean;
}

/** Interns statements by query shape and gives each a pooler-unique server name. Bounded (LRU). */
export class StatementRegistry {
  private readonly byShape: LRUCache<string, Statement>;
  private seq = 0;

  constructor(max: number, private readonly prefix = 'weir_') {
    this.byShape = new LRUCache({ max });
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
      s = { name, query, paramTypes: [...paramTypes], parse: parse(name, query, [...paramTypes]), verified: false };
      this.byShape.set(key, s);
    }
    return s;
  }

  get size(): number {
    return this.byShape.size;
  }
}

function shapeKey(query: string, paramTypes: readonly number[]): string {
  return paramTypes.length === 0 ? query : `${paramTypes.join(',')}\0${query}`;
}
