import { clientErrorOf, createToken, WeirError, type ConnectionId } from '@weir/kernel';
import { Msg } from '@weir/protocol';

/** A whole client message, valid only during the handler call. */
export interface ClientMessage {
  readonly type: number;
  readonly buffer: Buffer;
  readonly start: number;      // offset of the type byte
  readonly bodyStart: number;
  readonly end: number;
}

/** How the server's answer to bytes a plugin sends is treated. */
export const Answer = {
  /** The client gets it, as if it had sent the message itself. */
  Forward: 0,
  /** The client never sees it (messages the proxy injects). */
  Hide: 1,
  /** Hidden, except the ReadyForQuery at its end (a stand-in query whose status the client must get). */
  HideExceptReady: 2,
} as const;
export type Answer = (typeof Answer)[keyof typeof Answer];

export interface InterceptContext {
  /** The client (its proxy-made backend pid). */
  readonly clientId: number;
  /** The pool the client is in ("user@database"). */
  readonly poolName: string;
  /** The server connection this message will run on. */
  readonly serverId: ConnectionId;
  /** Per-client state, kept across transactions; plugins key it by their own symbol. */
  readonly state: Map<symbol, unknown>;
  /**
   * Transaction status byte of the last ReadyForQuery from the server ('I', 'T' or 'E'). With
   * pipelining it may lag behind messages the client has already sent.
   */
  readonly txStatus: number;
  /** Sync points (Sync, Query, FunctionCall) the client has sent so far, the current message included. */
  readonly syncs: number;
  /**
   * Send whole messages to the server. `done(failed, skipped)` runs once the answer to the last
   * of them has come back (failed: an ErrorResponse, or no answer; skipped: no answer because
   * the server skipped it after an earlier error in the extended protocol; sqlstate: the code of
   * the ErrorResponse an extended-protocol message got).
   */
  send(bytes: Buffer, answer?: Answer, done?: (failed: boolean, skipped: boolean, sqlstate?: string) => void): void;
  /**
   * Answer the client at this point of the response stream without involving the server.
   * `done(skipped)` runs when the reply goes out, or is dropped because an earlier message
   * failed and the server skips to the next Sync (skipped: true).
   */
  reply(bytes: Buffer, done?: (skipped: boolean) => void): void;
}

/** Return true when the handler took care of the message (with ctx.send / ctx.reply); false forwards it unchanged. */
export type ClientMessageHandler = (ctx: InterceptContext, msg: ClientMessage) => boolean;

/**
 * Answers a client may get with no server at all: a client of a transaction pool that holds no
 * server sends a batch ending in Sync whose every message a plugin can answer (a Parse of a
 * statement known to be valid); the proxy replies itself, ReadyForQuery 'I' included, and takes
 * no server — so a client preparing statements never waits behind clients holding servers.
 */
export interface LocalAnswerer {
  /**
   * Could `msg` be answered without a server, given this client's state? No side effects on
   * `state`. `batch` is new for each batch and shared by the checks of its messages, in order:
   * what the earlier ones would change (a second Parse of a name the batch parses is not the same).
   */
  check(state: Map<symbol, unknown>, msg: ClientMessage, batch: Map<symbol, unknown>): boolean;
  /** Take effect; the bytes to answer with. Called only after every message checked true. `pool` is "user@database". */
  answer(state: Map<symbol, unknown>, msg: ClientMessage, pool: string): Buffer;
}

/**
 * Per-message-type hooks on the client → server stream, for proxy plugins (prepared statements).
 * Sessions of transaction-mode pools switch to the framed path only when a handler is registered.
 */
export class MessageHooks {
  private readonly client: Array<ClientMessageHandler[] | null> = new Array(256).fill(null);
  /** Who registered each handler (same index as in `client`), for errors and logs. */
  private readonly owners: Array<string[] | null> = new Array(256).fill(null);
  private count = 0;

  get active(): boolean {
    return this.count > 0;
  }

  /** `plugin` names the owner in errors when the handler throws (a plugin's package name). */
  onClient(type: number, handler: ClientMessageHandler, plugin = 'unnamed plugin'): () => void {
    (this.client[type] ??= []).push(handler);
    (this.owners[type] ??= []).push(plugin);
    this.count++;
    this.mask = null;
    return () => {
      this.mask = null;
      const list = this.client[type];
      const i = list ? list.indexOf(handler) : -1;
      if (i < 0) return;
      list!.splice(i, 1);
      this.owners[type]!.splice(i, 1);
      if (list!.length === 0) {
        this.client[type] = null;
        this.owners[type] = null;
      }
      this.count--;
    };
  }

  private mask: Buffer | null = null;

  private watchMask: Buffer | null = null;

  /**
   * The client message types with a handler, as a 256-bit mask (the native link stops at them);
   * `watched`: also every type the server answers (a watched link must see no new answers owed).
   */
  clientMask(watched = false): Buffer {
    if (this.mask === null) {
      const m = Buffer.alloc(32);
      for (let t = 0; t < 256; t++) if (this.client[t] !== null) m[t >> 3] |= 1 << (t & 7);
      this.mask = m;
      const w = Buffer.from(m);
      for (const t of [Msg.Parse, Msg.Bind, Msg.Describe, Msg.Execute, Msg.Close, Msg.Sync, Msg.Query, Msg.FunctionCall]) w[t >> 3] |= 1 << (t & 7);
      this.watchMask = w;
    }
    return watched ? this.watchMask! : this.mask;
  }

  clientHandlers(type: number): ClientMessageHandler[] | null {
    return this.client[type];
  }

  /** The plugin that registered handler `i` for `type`. */
  clientOwner(type: number, i: number): string {
    return this.owners[type]?.[i] ?? 'unnamed plugin';
  }

  private readonly local: Array<LocalAnswerer | null> = new Array(256).fill(null);
  private readonly localOwners: string[] = new Array(256).fill('unnamed plugin');
  /** Message types with a local answerer. */
  localCount = 0;

  onClientLocal(type: number, answerer: LocalAnswerer, plugin = 'unnamed plugin'): () => void {
    if (this.local[type] !== null) throw new Error(`a local answerer for message type 0x${type.toString(16)} is already registered`);
    this.local[type] = answerer;
    this.localOwners[type] = plugin;
    this.localCount++;
    return () => {
      if (this.local[type] !== answerer) return;
      this.local[type] = null;
      this.localCount--;
    };
  }

  localAnswerer(type: number): LocalAnswerer | null {
    return this.local[type];
  }

  /** The plugin that registered the local answerer for `type`. */
  localOwner(type: number): string {
    return this.localOwners[type]!;
  }
}

/**
 * A message hook (or a callback it passed to ctx.send / ctx.reply) threw. The session ends (its
 * server connection is dropped, never reused); `details.sqlstate` is what the client is told: a
 * plugin's ClientError reaches the client as it is.
 */
export function messageHookFailed(err: unknown, plugin: string, type: number): WeirError {
  const cause = err as { message?: string; code?: unknown };
  const client = clientErrorOf(err);
  const hook = `message hook '${String.fromCharCode(type)}'`;
  // A plugin's own client-facing error (SQLSTATE + message) reaches the client as it is; a
  // protocol decode error is the client's fault (08P01); anything else is a plugin bug.
  let sqlstate = 'XX000';
  let clientMessage = `internal error in plugin ${plugin}`;
  if (client !== undefined) {
    sqlstate = client.sqlstate;
    clientMessage = client.message;
  } else if (typeof cause?.code === 'string' && cause.code.startsWith('WEIR_E_PROTO')) {
    sqlstate = '08P01';
    clientMessage = `invalid message from client: ${cause.message}`;
  }
  return new WeirError('WEIR_E_MESSAGE_HOOK_FAILED', `plugin ${plugin} failed in its ${hook}: ${cause?.message ?? String(err)}`,
    { plugin, hook, sqlstate, clientMessage }, { cause: err });
}

export const MESSAGE_HOOKS = createToken<MessageHooks>('weir.proxy.MessageHooks');
