import {
  Msg, decodeParse, decodeBind, decodeDescribe, decodeClose, decodeQuery,
  renameBindStatement, describe, close, query, commandComplete, PARSE_COMPLETE, CLOSE_COMPLETE,
} from '@weir/protocol';
import { Answer, type InterceptContext, type MessageHooks, type ClientMessage } from '@weir/proxy';
import type { StatementCache } from './statement-cache.js';
import type { Statement, StatementRegistry } from './statements.js';
import type { ConnectionStatements } from './connection-cache.js';

/** What one client has prepared, under its own names. */
interface ClientStatements {
  readonly named: Map<string, Statement>;
  unnamed: Statement | null;
}

const CLIENT = Symbol('weir.prepared-statements.client');
const EMPTY_QUERY = query('');
const DEALLOCATE = /^\s*deallocate\s+(?:prepare\s+)?("(?:[^"]|"")+"|[^\s;]+)\s*;?\s*$/i;
const DISCARD_ALL = /^\s*discard\s+all\s*;?\s*$/i;

function clientOf(ctx: InterceptContext): ClientStatements {
  let c = ctx.state.get(CLIENT) as ClientStatements | undefined;
  if (c === undefined) {
    c = { named: new Map(), unnamed: null };
    ctx.state.set(CLIENT, c);
  }
  return c;
}

function sqlName(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
}

export interface HandlerOptions {
  cacheAnonymous: boolean;
}

/**
 * Prepared statements through transaction pooling. Client statement names map to shared
 * server statements; a statement is prepared on whichever server the client lands on
 * (a hidden Parse where that server lacks it, a synthesised ParseComplete where it has it).
 */
export function installProxyHandlers(hooks: MessageHooks, cache: StatementCache, registry: StatementRegistry, opts: HandlerOptions): () => void {
  /** Make sure `stmt` exists on the current server; `answer` decides whether the client sees the ParseComplete. */
  function prepare(ctx: InterceptContext, conn: ConnectionStatements, stmt: Statement, answer: Answer, done?: (failed: boolean) => void): void {
    const stats = cache.poolStats(ctx.poolName);
    stats.misses++;
    const evicted = conn.add(stmt.name);
    if (evicted !== null) {
      stats.evictions++;
      ctx.send(close('S', evicted), Answer.Hide);
    }
    ctx.send(stmt.parse, answer, (failed) => {
      if (failed) conn.delete(stmt.name);
      done?.(failed);
    });
  }

  function ensure(ctx: InterceptContext, stmt: Statement): void {
    const conn = cache.for(ctx.serverId, ctx.poolName);
    if (conn.has(stmt.name)) cache.poolStats(ctx.poolName).hits++;
    else prepare(ctx, conn, stmt, Answer.Hide);
  }

  function lookup(ctx: InterceptContext, name: string): Statement | null | undefined {
    const c = ctx.state.get(CLIENT) as ClientStatements | undefined;
    if (c === undefined) return undefined;
    return name === '' ? c.unnamed : c.named.get(name);
  }

  const onParse = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const p = decodeParse(m.buffer, m.bodyStart, m.end);
    const client = clientOf(ctx);
    if (p.name === '' && !opts.cacheAnonymous) {
      client.unnamed = null;
      return false;
    }
    const stmt = registry.intern(p.query, p.paramTypes);
    if (p.name === '') client.unnamed = stmt;
    else client.named.set(p.name, stmt);
    const conn = cache.for(ctx.serverId, ctx.poolName);
    if (conn.has(stmt.name)) {
      cache.poolStats(ctx.poolName).hits++;
      ctx.reply(PARSE_COMPLETE);
      return true;
    }
    prepare(ctx, conn, stmt, Answer.Forward, (failed) => {
      if (!failed) return;
      // A Parse that fails caches nothing: the client's name is gone too.
      if (p.name === '') {
        if (client.unnamed === stmt) client.unnamed = null;
      } else if (client.named.get(p.name) === stmt) client.named.delete(p.name);
    });
    return true;
  };

  const onBind = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const b = decodeBind(m.buffer, m.bodyStart, m.end);
    const stmt = lookup(ctx, b.statement);
    if (!stmt) return false;
    ensure(ctx, stmt);
    ctx.send(renameBindStatement(m.buffer, m.start, m.end, b, stmt.name));
    return true;
  };

  const onDescribe = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const d = decodeDescribe(m.buffer, m.bodyStart, m.end);
    if (d.kind !== 'S') return false;
    const stmt = lookup(ctx, d.name);
    if (!stmt) return false;
    ensure(ctx, stmt);
    ctx.send(describe('S', stmt.name));
    return true;
  };

  const onClose = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const c = decodeClose(m.buffer, m.bodyStart, m.end);
    if (c.kind !== 'S') return false;
    const client = clientOf(ctx);
    // The server statement is shared: only the client's name goes away.
    if (c.name === '') client.unnamed = null;
    else client.named.delete(c.name);
    ctx.reply(CLOSE_COMPLETE);
    return true;
  };

  const onQuery = (ctx: InterceptContext, m: ClientMessage): boolean => {
    // Cheap first test: only statements starting with "d"/"D" after blanks can matter.
    let i = m.bodyStart;
    while (i < m.end && m.buffer[i] <= 0x20) i++;
    const c = m.buffer[i] | 0x20;
    if (c !== 0x64) return false;
    const sql = decodeQuery(m.buffer, m.bodyStart, m.end);
    const client = clientOf(ctx);
    if (DISCARD_ALL.test(sql)) {
      const conn = cache.for(ctx.serverId, ctx.poolName);
      ctx.send(Buffer.from(m.buffer.subarray(m.start, m.end)), Answer.Forward, (failed) => {
        if (failed) return;
        client.named.clear();
        client.unnamed = null;
        conn.clear();
      });
      return true;
    }
    const d = DEALLOCATE.exec(sql);
    if (!d) return false;
    const all = d[1].toLowerCase() === 'all';
    const name = all ? '' : sqlName(d[1]);
    if (!all && !client.named.has(name)) return false; // maybe a SQL PREPARE of this transaction: the server decides
    if (all) client.named.clear();
    else client.named.delete(name);
    ctx.reply(commandComplete(all ? 'DEALLOCATE ALL' : 'DEALLOCATE'));
    ctx.send(EMPTY_QUERY, Answer.HideExceptReady);
    return true;
  };

  const off = [
    hooks.onClient(Msg.Parse, onParse),
    hooks.onClient(Msg.Bind, onBind),
    hooks.onClient(Msg.Describe, onDescribe),
    hooks.onClient(Msg.Close, onClose),
    hooks.onClient(Msg.Query, onQuery),
  ];
  return () => off.forEach((f) => f());
}
