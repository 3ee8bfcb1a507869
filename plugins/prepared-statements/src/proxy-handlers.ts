import {
  Msg, decodeParse, decodeBind, decodeDescribe, decodeClose, decodeQuery,
  renameBindStatement, describe, close, parse, bind, execute, query, commandComplete, PARSE_COMPLETE, CLOSE_COMPLETE,
} from '@weir/protocol';
import { Answer, type InterceptContext, type MessageHooks, type ClientMessage, type LocalAnswerer } from '@weir/proxy';
import type { StatementCache } from './statement-cache.js';
import { statementBytes, type Statement, type StatementRegistry } from './statements.js';
import type { ConnectionStatements } from './connection-cache.js';
import { ClientStatements } from './client-statements.js';

import { PLUGIN_NAME } from './name.js';

const FAILED_TRANSACTION = 0x45; // 'E'
/** feature_not_supported: what a Bind gets for "cached plan must not change result type". */
const STALE_PLAN = '0A000';

const CLIENT = Symbol('weir.prepared-statements.client');
/** LocalAnswerer batch scratch: the names the batch's earlier Parses take. */
const BATCH_NAMES = Symbol('weir.prepared-statements.batch-names');
const EMPTY_QUERY = query('');
const DEALLOCATE = /^\s*deallocate\s+(?:prepare\s+)?("(?:[^"]|"")+"|[^\s;]+)\s*;?\s*$/i;
const DISCARD_ALL = /^\s*discard\s+all\s*;?\s*$/i;

function clientOf(ctx: InterceptContext): ClientStatements {
  return clientIn(ctx.state);
}

function clientIn(state: Map<symbol, unknown>): ClientStatements {
  let c = state.get(CLIENT) as ClientStatements | undefined;
  if (c === undefined) {
    c = new ClientStatements();
    state.set(CLIENT, c);
  }
  return c;
}

function sqlName(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
}

export interface HandlerOptions {
  cacheAnonymous: boolean;
  /** Bytes (statementBytes) one client's statement names may hold; a Parse past it is refused with 54000. */
  maxClientBytes: number;
  /** Told once per client when its first Parse is refused. */
  onRefused?: (pool: string, clientId: number, bytes: number) => void;
}

/**
 * A Parse refused by weir: the server must fail it too, so that it skips what follows up to the
 * next Sync exactly as the client expects. An unnamed statement that raises the error when
 * executed does that; its ParseComplete and BindComplete are hidden, the error is the client's.
 * (It takes the server's unnamed statement and portal, which the failed batch could not use.)
 */
function refusal(bytes: number, limit: number): Buffer {
  const msg = `WEIR_E_PS_CLIENT_LIMIT: prepared statements of this client would hold ${bytes} bytes, over max_client_statement_bytes (${limit})`;
  const hint = 'Close or DEALLOCATE statements no longer used, or raise prepared_statements.max_client_statement_bytes.';
  const sql = `DO $weir$BEGIN RAISE EXCEPTION USING ERRCODE = '54000', MESSAGE = '${msg}', HINT = '${hint}'; END$weir$`;
  return Buffer.concat([parse('', sql), bind('', ''), execute('', 0)]);
}

/**
 * Prepared statements through transaction pooling. Client statement names map to shared
 * server statements; a statement is prepared on whichever server the client lands on
 * (a hidden Parse where that server lacks it, a synthesised ParseComplete where it has it).
 */
export function installProxyHandlers(hooks: MessageHooks, cache: StatementCache, registry: StatementRegistry, opts: HandlerOptions): () => void {
  /**
   * Counts client Parses handled and Parses sent to servers. A client runs its statement only on
   * a server copy prepared after its own Parse (PostgreSQL plans a statement when it is parsed:
   * a copy from before, e.g. before an ALTER TABLE, could fail where PostgreSQL would not).
   */
  let clock = 0;
  /**
   * Prepare `stmt` on the current server; `answer` decides whether the client sees the
   * ParseComplete. `reparse`: the cache lists it but it may not exist (its Parse is unanswered,
   * or the transaction failed): close it first.
   */
  function prepare(ctx: InterceptContext, conn: ConnectionStatements, stmt: Statement, answer: Answer,
    done?: (failed: boolean, skipped: boolean) => void, reparse = false): void {
    const stats = cache.poolStats(ctx.poolName);
    stats.misses++;
    const name = stmt.name;
    const closeFirst = reparse || conn.isDoubtful(name);
    const evicted = conn.add(name, ++clock);
    if (evicted !== null) {
      stats.evictions++;
      conn.doubt(evicted);
    }
    // Whatever the server may hold beyond the cache (the statement just evicted, Closes it
    // skipped after an error, statements of a DISCARD ALL that may have failed) is closed
    // before this Parse: the server stays within the bound and never has the name already.
    for (const [n, v] of conn.strays()) {
      ctx.send(close('S', n), Answer.Hide, (failed) => {
        if (!failed) conn.resolve(n, v);
      });
    }
    if (closeFirst) ctx.send(close('S', name), Answer.Hide);
    conn.parseSent(name);
    ctx.send(stmt.parse, answer, (failed, skipped) => {
      // A later Parse of it (sent after a Close of it) decides what the server holds.
      const later = conn.parseDone(name);
      if (failed) {
        if (later === 0) {
          conn.delete(name);
          conn.doubt(name); // skipped: the server may still have it from before
        }
      } else {
        conn.confirm(name);
        stmt.verified = true;
      }
      done?.(failed, skipped);
    });
  }

  /** `stmt` (the client's under `name`) is prepared on this server, by a Parse no older than the client's. */
  function ensure(ctx: InterceptContext, stmt: Statement, name: string): void {
    const conn = cache.for(ctx.serverId, ctx.poolName);
    const held = conn.has(stmt.name);
    if (held && conn.preparedAt(stmt.name)! >= clientOf(ctx).parsedAt(name)) cache.poolStats(ctx.poolName).hits++;
    else prepare(ctx, conn, stmt, Answer.Hide, undefined, held);
  }

  /** The client's statement under `name`; one whose plan went stale is replaced by a fresh one of the same text. */
  function lookup(ctx: InterceptContext, name: string): Statement | null | undefined {
    const c = ctx.state.get(CLIENT) as ClientStatements | undefined;
    if (c === undefined) return undefined;
    const s = c.get(name);
    if (s === null || !s.stale) return s;
    const fresh = registry.intern(s.query, s.paramTypes);
    c.set(name, fresh);
    return fresh;
  }

  const onParse = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const p = decodeParse(m.buffer, m.bodyStart, m.end);
    const client = clientOf(ctx);
    if (p.name === '' && !opts.cacheAnonymous) {
      client.set('', null);
      return false;
    }
    const prev = client.get(p.name);
    // In use: known to exist, or its Parse unanswered but sent since the last Sync (if that one
    // fails, the server skips this one anyway).
    const pending = client.parsing.get(p.name);
    if (prev !== null && p.name !== '' && (pending === undefined || pending.syncs === ctx.syncs)) {
      // PostgreSQL refuses a name in use (42P05, after checking the query's syntax and the
      // transaction): let the server answer, with the client's statement in place under its
      // server name and the new query parsed under that name.
      const conn = cache.for(ctx.serverId, ctx.poolName);
      if (ctx.txStatus === FAILED_TRANSACTION) {
        // Refused anyway (syntax error, or the failed transaction): no need for the statement.
      } else if (conn.has(prev.name) && conn.settled(prev.name)) cache.poolStats(ctx.poolName).hits++;
      else prepare(ctx, conn, prev, Answer.Hide, undefined, conn.has(prev.name));
      ctx.send(parse(prev.name, p.query, p.paramTypes), Answer.Forward, (failed) => {
        // Never expected to work; if it did, the server's statement is not what the registry says.
        if (!failed) {
          conn.delete(prev.name);
          conn.doubt(prev.name);
        }
      });
      return true;
    }
    const need = client.bytesWith(p.name, statementBytes(p.query, p.paramTypes));
    if (need > opts.maxClientBytes) {
      // Refused as PostgreSQL refuses a statement past a limit (54000); the client's names stay
      // as they were (a failed unnamed Parse leaves no unnamed statement, as in PostgreSQL).
      if (p.name === '') client.set('', null);
      if (!client.refused) {
        client.refused = true;
        opts.onRefused?.(ctx.poolName, ctx.clientId, need);
      }
      ctx.send(refusal(need, opts.maxClientBytes), Answer.Hide);
      return true;
    }
    const stmt = registry.intern(p.query, p.paramTypes);
    // A Parse that does not take effect (it fails, or the server skips it after an earlier
    // error) leaves the client's names as they were; PostgreSQL drops the unnamed statement
    // before parsing, so a failed unnamed Parse leaves none.
    // Unnamed statements shared by cache_anonymous take any copy (that is the option's bargain).
    client.parsed(p.name, stmt, p.name === '' ? 0 : ++clock);
    if (pending === undefined) client.parsing.set(p.name, { count: 1, syncs: ctx.syncs });
    else {
      pending.count++;
      pending.syncs = ctx.syncs;
    }
    const undo = (failed: boolean, skipped: boolean): void => {
      const left = client.parsing.get(p.name)!;
      if (--left.count === 0) client.parsing.delete(p.name);
      if (failed && client.get(p.name) === stmt) client.set(p.name, p.name === '' && !skipped ? null : prev);
    };
    const conn = cache.for(ctx.serverId, ctx.poolName);
    // A hit only for an unnamed statement (cache_anonymous: shared copies, planned when first
    // parsed) known to exist, and not in a failed transaction (PostgreSQL refuses a Parse there:
    // let the server answer that). A named one is parsed again where its copy predates this Parse.
    if (p.name === '' && conn.has(stmt.name) && conn.settled(stmt.name) && ctx.txStatus !== FAILED_TRANSACTION) {
      cache.poolStats(ctx.poolName).hits++;
      ctx.reply(PARSE_COMPLETE, (skipped) => undo(skipped, skipped));
      return true;
    }
    prepare(ctx, conn, stmt, Answer.Forward, undo, conn.has(stmt.name));
    return true;
  };

  const onBind = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const b = decodeBind(m.buffer, m.bodyStart, m.end);
    const stmt = lookup(ctx, b.statement);
    if (!stmt) return false;
    ensure(ctx, stmt, b.statement);
    ctx.send(renameBindStatement(m.buffer, m.start, m.end, b, stmt.name), Answer.Forward, (failed, skipped, sqlstate) => {
      // The table changed under a shared statement: this client gets PostgreSQL's error (as it
      // would for a statement of its own prepared before the change), nobody after it does.
      if (failed && !skipped && sqlstate === STALE_PLAN && !stmt.stale) {
        registry.forget(stmt);
        cache.poolStats(ctx.poolName).stale++;
      }
    });
    return true;
  };

  const onDescribe = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const d = decodeDescribe(m.buffer, m.bodyStart, m.end);
    if (d.kind !== 'S') return false;
    const stmt = lookup(ctx, d.name);
    if (!stmt) return false;
    ensure(ctx, stmt, d.name);
    ctx.send(describe('S', stmt.name));
    return true;
  };

  const onClose = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const c = decodeClose(m.buffer, m.bodyStart, m.end);
    if (c.kind !== 'S') return false;
    // Unnamed statements not cached are the server's own: so is closing them.
    if (c.name === '' && !opts.cacheAnonymous) return false;
    const client = clientOf(ctx);
    // The server statement is shared: only the client's name goes away (unless the server
    // skips this Close after an earlier error).
    const prev = client.get(c.name);
    client.set(c.name, null);
    ctx.reply(CLOSE_COMPLETE, (skipped) => {
      if (skipped && prev !== null && client.get(c.name) === null) client.set(c.name, prev);
    });
    return true;
  };

  const onQuery = (ctx: InterceptContext, m: ClientMessage): boolean => {
    const known = ctx.state.get(CLIENT) as ClientStatements | undefined;
    // PostgreSQL drops the unnamed statement at every simple query.
    if (known !== undefined) known.set('', null);
    // Cheap first test: only statements starting with "d"/"D" after blanks can matter.
    let i = m.bodyStart;
    while (i < m.end && m.buffer[i] <= 0x20) i++;
    const c = m.buffer[i] | 0x20;
    if (c !== 0x64) return false;
    const sql = decodeQuery(m.buffer, m.bodyStart, m.end);
    const client = clientOf(ctx);
    if (DISCARD_ALL.test(sql)) {
      // From here on the server has none of the statements, unless DISCARD ALL fails (in a
      // transaction block): until it is known, they are doubtful and the client's names gone.
      const conn = cache.for(ctx.serverId, ctx.poolName);
      const dropped = conn.clear();
      const before = client.takeNamed();
      ctx.send(Buffer.from(m.buffer.subarray(m.start, m.end)), Answer.Forward, (failed) => {
        if (!failed) for (const [name, v] of dropped) conn.resolve(name, v);
        else client.restore(before);
      });
      return true;
    }
    const d = DEALLOCATE.exec(sql);
    if (!d) return false;
    // In a failed transaction PostgreSQL refuses DEALLOCATE: the server says so.
    if (ctx.txStatus === FAILED_TRANSACTION) return false;
    const all = d[1].toLowerCase() === 'all';
    const name = all ? '' : sqlName(d[1]);
    if (!all && !client.has(name)) return false; // maybe a SQL PREPARE of this transaction: the server decides
    const before = all ? client.takeNamed() : client.takeOne(name);
    ctx.reply(commandComplete(all ? 'DEALLOCATE ALL' : 'DEALLOCATE'), (skipped) => {
      if (skipped) client.restore(before);
    });
    ctx.send(EMPTY_QUERY, Answer.HideExceptReady);
    return true;
  };

  /**
   * A client with no server preparing a statement already known to be valid (pgbench -M prepared
   * prepares with a blocking Parse + Sync): answered without a server; the statement is prepared
   * where the client later binds it. Names in use, Parses in flight and unknown or unverified
   * statements go to a server as usual.
   */
  const parseLocally: LocalAnswerer = {
    check(state, m, batch) {
      const p = decodeParse(m.buffer, m.bodyStart, m.end);
      if (p.name === '' && !opts.cacheAnonymous) return false;
      const client = state.get(CLIENT) as ClientStatements | undefined;
      if (client !== undefined && ((p.name !== '' && client.get(p.name) !== null) || client.parsing.has(p.name))) return false;
      // A name an earlier Parse of this batch takes is in use by then (42P05): a server answers that.
      const named = (batch.get(BATCH_NAMES) as Set<string> | undefined) ?? new Set<string>();
      if (p.name !== '' && named.has(p.name)) return false;
      const bytes = statementBytes(p.query, p.paramTypes);
      if ((client?.bytesWith(p.name, bytes) ?? bytes) > opts.maxClientBytes) return false; // onParse refuses it
      if (registry.peek(p.query, p.paramTypes)?.verified !== true) return false;
      batch.set(BATCH_NAMES, named.add(p.name));
      return true;
    },
    answer(state, m, pool) {
      const p = decodeParse(m.buffer, m.bodyStart, m.end);
      clientIn(state).parsed(p.name, registry.intern(p.query, p.paramTypes), p.name === '' ? 0 : ++clock);
      cache.poolStats(pool).hits++;
      return PARSE_COMPLETE;
    },
  };

  const off = [
    hooks.onClientLocal(Msg.Parse, parseLocally, PLUGIN_NAME),
    hooks.onClient(Msg.Parse, onParse, PLUGIN_NAME),
    hooks.onClient(Msg.Bind, onBind, PLUGIN_NAME),
    hooks.onClient(Msg.Describe, onDescribe, PLUGIN_NAME),
    hooks.onClient(Msg.Close, onClose, PLUGIN_NAME),
    hooks.onClient(Msg.Query, onQuery, PLUGIN_NAME),
  ];
  return () => off.forEach((f) => f());
}
