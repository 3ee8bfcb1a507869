import type { ConnectionId } from '@weir/kernel';
import { Framer, Msg, decodeErrorFields } from '@weir/protocol';
import { Answer, messageHookFailed, type ClientMessage, type InterceptContext, type MessageHooks } from './hooks.js';
import { Plan, Kind, kindOf, ends } from './plan.js';

const MAX_SERVER_MESSAGE = 1 << 30;
const IDLE = 0x49; // 'I'

/** Whoever writes to the client and the server for the interceptor (the session). */
export interface InterceptIO {
  toServer(bytes: Buffer): void;
  toClient(bytes: Buffer): void;
}

/**
 * Pieces gathered for one write: runs of adjacent messages of one buffer are kept as one slice;
 * one piece goes as it is, several are joined (small: cheaper than writev).
 */
class Gather {
  private parts: Buffer[] = [];
  private bytes = 0;
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;

  /** Bytes [start, end) of `buf`, merged with the current run when they follow it. */
  run(buf: Buffer, start: number, end: number): void {
    if (buf !== this.runBuf || start !== this.runEnd) {
      this.cut();
      this.runBuf = buf;
      this.runStart = start;
    }
    this.runEnd = end;
  }

  /** End the current run (something goes between, or is left out). */
  cut(): void {
    if (this.runBuf === null) return;
    this.push(this.runBuf.subarray(this.runStart, this.runEnd));
    this.runBuf = null;
  }

  add(b: Buffer): void {
    this.cut();
    this.push(b);
  }

  take(): Buffer | null {
    this.cut();
    const n = this.parts.length;
    if (n === 0) return null;
    const out = n === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes);
    this.parts.length = 0;
    this.bytes = 0;
    return out;
  }

  private push(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.bytes += b.length;
  }
}

/**
 * The framed path of a session whose pool has message hooks: client messages go through
 * plugin handlers one by one; the server's answers are matched to a plan so answers to
 * injected messages are hidden and plugin replies land where the client expects them.
 */
export class Interceptor implements InterceptContext {
  readonly state = new Map<symbol, unknown>();
  serverId: ConnectionId = 0;
  txStatus = IDLE;
  syncs = 0;
  private io: InterceptIO | null = null;
  private readonly clientFramer: Framer;
  private readonly serverFramer = new Framer(MAX_SERVER_MESSAGE);
  private readonly plan = new Plan();
  /** Bytes of the server message in progress (not yet whole) that were already passed to the client. */
  private forwardedPartial = 0;
  private readonly toServer = new Gather();
  private readonly toClient = new Gather();
  /** Index of the handler running now (-1: none): callbacks it hands over are named after its plugin. */
  private running = -1;
  private readonly msg = { type: 0, buffer: Buffer.alloc(0), start: 0, bodyStart: 0, end: 0 } as { -readonly [K in keyof ClientMessage]: ClientMessage[K] };

  constructor(readonly clientId: number, public poolName: string, private readonly hooks: MessageHooks, maxClientMessage: number) {
    this.clientFramer = new Framer(maxClientMessage);
  }

  /** The client moved to another pool (its old one was retired). */
  setPool(name: string): void {
    this.poolName = name;
  }

  attach(io: InterceptIO, serverId: ConnectionId): void {
    this.io = io;
    this.serverId = serverId;
    this.txStatus = IDLE; // sessions are handed idle server connections
  }

  detach(): void {
    this.io = null;
    this.plan.clear();
    // Normally nothing is held here (release waits for idle()); after a lost server, start clean.
    this.serverFramer.takePending();
    this.forwardedPartial = 0;
  }

  /** Does the server-side framer still reference bytes of the last chunk (a partial message)? */
  holdsServerBytes(): boolean {
    return this.serverFramer.pendingBytes() > 0;
  }

  /**
   * Native link: nothing in flight needs this path (every answer owed goes to the client as it
   * is and nobody waits on one; no message half received or half sent), so C can carry it.
   */
  canHandOff(): boolean {
    return this.plan.plainForwards() && this.forwardedPartial === 0 &&
      this.clientFramer.pendingBytes() === 0 && this.serverFramer.pendingBytes() === 0;
  }

  /** The link carries the answers owed from here: the plan forgets them (plain forwards, no owner waits). */
  handOff(): void {
    this.plan.clear();
  }

  /** Back from the link: the server's transaction status, and the sync points that passed in C. */
  resume(txStatus: number, syncs: number): void {
    this.txStatus = txStatus;
    this.syncs += syncs;
  }

  /** True when nothing is owed by the server and no client message is half received. */
  idle(): boolean {
    return this.plan.length === 0 && this.clientFramer.pendingBytes() === 0 && this.serverFramer.pendingBytes() === 0;
  }

  // ------------------------------------------------------------ InterceptContext

  send(bytes: Buffer, answer: Answer = Answer.Forward, done?: (failed: boolean, skipped: boolean, sqlstate?: string) => void): void {
    if (done !== undefined) done = this.named(done);
    const io = this.io!;
    // One plan entry per message that the server answers; `done` rides on the last one.
    let pos = 0;
    let last = -1;
    while (pos + 5 <= bytes.length) {
      const k = kindOf(bytes[pos]);
      if (k >= 0) last = pos;
      pos += 1 + bytes.readInt32BE(pos + 1);
    }
    pos = 0;
    while (pos + 5 <= bytes.length) {
      const k = kindOf(bytes[pos]);
      if (k >= 0) this.plan.push(k, answer, null, pos === last ? done ?? null : null);
      pos += 1 + bytes.readInt32BE(pos + 1);
    }
    if (last < 0 && done) done(false, false);
    void io;
    this.toServer.add(bytes);
  }

  reply(bytes: Buffer, done?: (skipped: boolean) => void): void {
    if (done !== undefined) done = this.named(done);
    // Sent in front of the server's next answer (one write), or at the end of the client's
    // chunk when the server owes nothing before it.
    this.plan.push(Kind.Reply, Answer.Forward, bytes, done === undefined ? null : (failed) => done(failed));
  }

  /** A plugin callback that, when it throws, names the plugin whose handler passed it. */
  private named<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void {
    if (this.running < 0) return fn;
    const type = this.msg.type;
    const plugin = this.hooks.clientOwner(type, this.running);
    return (...a: A) => {
      try {
        fn(...a);
      } catch (e) {
        throw messageHookFailed(e, plugin, type);
      }
    };
  }

  // ------------------------------------------------------------ client → server

  clientChunk(chunk: Buffer): void {
    const io = this.io!;
    const framer = this.clientFramer;
    framer.push(chunk);
    const out = this.toServer;
    while (framer.next()) {
      const type = framer.type;
      if (type === Msg.Sync || type === Msg.Query || type === Msg.FunctionCall) this.syncs++;
      const handlers = this.hooks.clientHandlers(type);
      if (handlers !== null) {
        out.cut();
        const m = this.msg;
        m.type = type;
        m.buffer = framer.buffer;
        m.start = framer.start;
        m.bodyStart = framer.bodyStart;
        m.end = framer.end;
        let handled = false;
        for (let i = 0; i < handlers.length && !handled; i++) {
          this.running = i;
          try {
            handled = handlers[i](this, m);
          } catch (e) {
            // Nothing of this chunk has gone out yet: the session ends and its server is dropped.
            throw messageHookFailed(e, this.hooks.clientOwner(type, i), type);
          } finally {
            this.running = -1;
          }
        }
        if (handled) continue;
      }
      out.run(framer.buffer, framer.start, framer.end);
      const k = kindOf(type);
      if (k >= 0) this.plan.push(k, Answer.Forward, null, null);
    }
    const bytes = out.take();
    if (bytes !== null) io.toServer(bytes);
    if (this.plan.headKind() === Kind.Reply && this.forwardedPartial === 0 && this.plan.onlyReplies()) this.emitReplies();
  }

  // ------------------------------------------------------------ server → client

  serverChunk(chunk: Buffer): void {
    const io = this.io!;
    const plan = this.plan;
    const framer = this.serverFramer;
    const held = framer.pendingBytes();
    framer.push(chunk);
    if (plan.special === 0 && held === this.forwardedPartial) {
      // Nothing hidden or replied, and the client has every byte held so far: the chunk goes on
      // whole (a message it ends in half included); walk it only to keep the plan in step.
      io.toClient(chunk);
      while (framer.next()) this.settle(framer.type);
      this.forwardedPartial = framer.pendingBytes();
      return;
    }
    const out = this.toClient;
    // Leading bytes of the next whole message that already went to the client on the whole-chunk path.
    let skip = this.forwardedPartial;
    while (framer.next()) {
      const type = framer.type;
      if (skip === 0 && plan.headKind() === Kind.Reply) this.gatherReplies();
      if (skip !== 0 || this.forwards(type)) {
        out.run(framer.buffer, framer.start + skip, framer.end);
        skip = 0;
      } else {
        out.cut();
      }
      this.settle(type);
    }
    // Only whole messages go on from here: a message still in half is held back.
    this.forwardedPartial = skip;
    if (skip === 0 && plan.headKind() === Kind.Reply) this.gatherReplies();
    const bytes = out.take();
    if (bytes !== null) io.toClient(bytes);
  }

  /** Should the client see server message `type`, given the head of the plan? */
  private forwards(type: number): boolean {
    const plan = this.plan;
    if (plan.length === 0) return true;
    const answer = plan.headAnswer();
    if (answer === Answer.Forward) return true;
    if (type === Msg.ErrorResponse) return true; // an injected message failing explains the client's failure
    if (answer === Answer.HideExceptReady) return type === Msg.ReadyForQuery;
    return false;
  }

  /** Advance the plan past server message `type` (the server framer's current message). */
  private settle(type: number): void {
    if (type === Msg.ReadyForQuery) this.txStatus = this.serverFramer.buffer[this.serverFramer.bodyStart];
    const plan = this.plan;
    const kind = plan.headKind();
    if (kind < 0 || kind === Kind.Reply) return;
    if (type === Msg.ErrorResponse) {
      // A simple query, or a Sync whose implicit commit failed: answered by ReadyForQuery all the same.
      if (kind === Kind.Query || kind === Kind.Sync) plan.markHeadFailed();
      // Extended protocol: the server skips everything up to the next Sync.
      else plan.failToSync(this.serverErrorCode());
      return;
    }
    if (ends(kind, type)) plan.shift(false);
  }

  /** SQLSTATE of the ErrorResponse the server framer holds ('' if unreadable). */
  private serverErrorCode(): string {
    const f = this.serverFramer;
    try {
      return decodeErrorFields(f.buffer, f.bodyStart, f.end).code;
    } catch {
      return '';
    }
  }

  private gatherReplies(): void {
    const plan = this.plan;
    while (plan.headKind() === Kind.Reply) {
      this.toClient.add(plan.headReply()!);
      plan.shift(false);
    }
  }

  private emitReplies(): void {
    this.gatherReplies();
    const bytes = this.toClient.take();
    if (bytes !== null) this.io!.toClient(bytes);
  }
}
