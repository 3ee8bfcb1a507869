import { Framer } from '@weir/protocol';

/** Where a reader's bytes come from when it listens itself: a node:net or TLS socket. */
export interface ByteSource {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export interface RawMessage {
  type: number;
  buffer: Buffer;
  bodyStart: number;
  start: number;
  end: number;
}

/**
 * Promise-based reading of whole messages, for the login phase and the admin console
 * (not the forwarding path). One reader per socket; reads are sequential. With no source
 * (a connection of the native plane, whose session hears its bytes) the owner calls {@link feed}.
 */
export class MessageReader {
  private readonly framer: Framer;
  private waiter: { typed: boolean; resolve: (m: RawMessage) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  /** Bytes from the client. */
  readonly feed = (chunk: Buffer): void => {
    try {
      this.framer.push(chunk);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.pump();
  };

  constructor(private source: ByteSource | null, maxLength: number) {
    this.framer = new Framer(maxLength);
    source?.on('data', this.feed);
  }

  /** Switch to another source (after a TLS upgrade). */
  rebind(source: ByteSource): void {
    this.source?.off('data', this.feed);
    this.source = source;
    source.on('data', this.feed);
  }

  fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.reject(err);
    }
  }

  next(typed: boolean): Promise<RawMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { typed, resolve, reject };
      this.pump();
    });
  }

  private pump(): void {
    const w = this.waiter;
    if (!w) return;
    let ok: boolean;
    try {
      ok = w.typed ? this.framer.next() : this.framer.nextUntyped();
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    if (!ok) return;
    this.waiter = null;
    const f = this.framer;
    w.resolve({ type: f.type, buffer: f.buffer, bodyStart: f.bodyStart, start: f.start, end: f.end });
  }

  /** Bytes received past the last message read. */
  pendingBytes(): number {
    return this.framer.pendingBytes();
  }

  /** Stop reading and hand back any bytes received past the last message read. */
  detach(): Buffer | null {
    this.source?.off('data', this.feed);
    this.source = null;
    return this.framer.takePending();
  }
}
