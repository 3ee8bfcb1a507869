import { Msg } from '@weir/protocol';

/**
 * The answers a server owes for what was sent to it, in order, so the proxy can hide
 * answers to messages it injected and put its own replies at the right place.
 */
export const Kind = {
  Parse: 0, Bind: 1, Describe: 2, Execute: 3, Close: 4, Sync: 5, Query: 6, Reply: 7,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** The plan entry kind for a client message type, or -1 when the server owes no answer (Flush, CopyData…). */
export function kindOf(type: number): number {
  switch (type) {
    case Msg.Parse: return Kind.Parse;
    case Msg.Bind: return Kind.Bind;
    case Msg.Describe: return Kind.Describe;
    case Msg.Execute: return Kind.Execute;
    case Msg.Close: return Kind.Close;
    case Msg.Sync: return Kind.Sync;
    case Msg.Query:
    case Msg.FunctionCall: return Kind.Query;
    default: return -1;
  }
}

/** Does server message `type` end the answer to an entry of `kind`? */
export function ends(kind: number, type: number): boolean {
  switch (kind) {
    case Kind.Parse: return type === Msg.ParseComplete;
    case Kind.Bind: return type === Msg.BindComplete;
    case Kind.Describe: return type === Msg.RowDescription || type === Msg.NoData;
    case Kind.Execute: return type === Msg.CommandComplete || type === Msg.EmptyQueryResponse || type === Msg.PortalSuspended;
    case Kind.Close: return type === Msg.CloseComplete;
    case Kind.Sync:
    case Kind.Query: return type === Msg.ReadyForQuery;
    default: return false;
  }
}

/**
 * failed: the message got an ErrorResponse or no answer at all; skipped: no answer (the server
 * skipped it after an earlier error); sqlstate: the code of the ErrorResponse it got, if it got one.
 */
type Done = ((failed: boolean, skipped: boolean, sqlstate?: string) => void) | null;

/** A ring buffer of plan entries (parallel arrays: no object per entry). */
export class Plan {
  private kinds = new Uint8Array(8);
  private answers = new Uint8Array(8);
  private bytes: Array<Buffer | null> = new Array(8).fill(null);
  private dones: Done[] = new Array(8).fill(null);
  private head = 0;
  private size = 0;
  /** Entries that are not plain forwards (hidden answers, replies): while 0 the answer stream passes untouched. */
  special = 0;
  /** Entries whose owner waits to hear how the server answered. */
  waiting = 0;

  get length(): number {
    return this.size;
  }

  /**
   * The server failed a message and is skipping everything up to a Sync it has not been sent
   * yet: what is pushed before that Sync gets no answer (its owner is told it failed at once).
   */
  private skipping = false;

  push(kind: number, answer: number, reply: Buffer | null, done: Done): void {
    if (this.skipping) {
      if (kind !== Kind.Sync) {
        if (done !== null) done(true, true);
        return;
      }
      this.skipping = false;
    }
    if (this.size === this.kinds.length) this.grow();
    const i = (this.head + this.size) & (this.kinds.length - 1);
    this.kinds[i] = kind;
    this.answers[i] = answer;
    this.bytes[i] = reply;
    this.dones[i] = done;
    this.size++;
    if (answer !== 0 || kind === Kind.Reply) this.special++;
    if (done !== null) this.waiting++;
  }

  /** Is every entry a reply (nothing owed by the server)? */
  onlyReplies(): boolean {
    const mask = this.kinds.length - 1;
    for (let k = 0; k < this.size; k++) if (this.kinds[(this.head + k) & mask] !== Kind.Reply) return false;
    return true;
  }

  headKind(): number {
    return this.size === 0 ? -1 : this.kinds[this.head];
  }

  headAnswer(): number {
    return this.answers[this.head];
  }

  headReply(): Buffer | null {
    return this.bytes[this.head];
  }

  /** The head's answer carried an ErrorResponse (simple query, or a Sync whose commit failed): it fails when it ends. */
  private headFailed = false;

  markHeadFailed(): void {
    this.headFailed = true;
  }

  /** Remove the head entry, telling its owner whether it failed. */
  shift(failed: boolean, skipped = false): void {
    const done = this.take();
    if (this.headFailed) {
      failed = true;
      this.headFailed = false;
    }
    if (done !== null) done(failed, skipped);
  }

  /** Remove the head entry; its callback is the caller's. */
  private take(): Done {
    const i = this.head;
    const done = this.dones[i];
    if (this.answers[i] !== 0 || this.kinds[i] === Kind.Reply) this.special--;
    if (done !== null) this.waiting--;
    this.bytes[i] = null;
    this.dones[i] = null;
    this.head = (i + 1) & (this.kinds.length - 1);
    this.size--;
    return done;
  }

  /**
   * An ErrorResponse to an extended-protocol message: the head and everything after it up to the
   * next Sync fail unanswered (the server skips them); with no Sync sent yet, so do later pushes.
   * Their owners are told last first, so that each can undo what it assumed in reverse order.
   */
  failToSync(sqlstate = ''): void {
    this.headFailed = false;
    const failed = this.take();
    let skipped: Done[] | null = null;
    while (this.size > 0 && this.kinds[this.head] !== Kind.Sync) {
      const done = this.take();
      if (done !== null) (skipped ??= []).push(done);
    }
    if (this.size === 0) this.skipping = true;
    if (skipped !== null) for (let i = skipped.length - 1; i >= 0; i--) skipped[i]!(true, true);
    if (failed !== null) failed(true, false, sqlstate);
  }

  /** Every entry is a plain forward nobody waits on: the answers owed could pass untouched, untracked. */
  plainForwards(): boolean {
    return this.special === 0 && this.waiting === 0 && !this.skipping && !this.headFailed;
  }

  clear(): void {
    this.skipping = false;
    this.headFailed = false;
    while (this.size > 0) this.shift(true, true);
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    const kinds = new Uint8Array(n);
    const answers = new Uint8Array(n);
    const bytes: Array<Buffer | null> = new Array(n).fill(null);
    const dones: Done[] = new Array(n).fill(null);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) & (this.kinds.length - 1);
      kinds[k] = this.kinds[i];
      answers[k] = this.answers[i];
      bytes[k] = this.bytes[i];
      dones[k] = this.dones[i];
    }
    this.kinds = kinds;
    this.answers = answers;
    this.bytes = bytes;
    this.dones = dones;
    this.head = 0;
  }
}
