import { LRUCache } from 'lru-cache';
import { parse } from '@weir/protocol';

/** A server-side statement: one per distinct (query text, parameter types), shared by every client. */
export interface Statement {
  readonly name: string;
  readonly query: string;
  readonly paramTypes: readonly number[];
  /** The Parse message that prepares it under its server name. */
  readonly parse: Buffer;
}

/** Interns statements by query shape and gives each a pooler-unique server name. Bounded (LRU). */
export class StatementRegistry {
  private readonly byShape: LRUCache<string, Statement>;
  private seq = 0;

  constructor(max: number, private readonly prefix = 'weir_') {
    this.byShape = new LRUCache({ max });
  }

  intern(query: string, paramTypes: readonly number[]): Statement {
    const key = paramTypes.length === 0 ? query : `${paramTypes.join(',')}\0${query}`;
    let s = this.byShape.get(key);
    if (s === undefined) {
      const name = `${this.prefix}${(++this.seq).toString(36)}`;
      s = { name, query, paramTypes: [...paramTypes], parse: parse(name, query, [...paramTypes]) };
      this.byShape.set(key, s);
    }
    return s;
  }

  get size(): number {
    return this.byShape.size;
  }
}
