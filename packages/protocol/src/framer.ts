import { ProtocolError } from './errors.js';

/** Largest message length the framer accepts unless told otherwise. */
export const DEFAULT_MAX_MESSAGE = 1 << 30;
/** Largest startup-phase packet, as PostgreSQL itself enforces. */
export const MAX_STARTUP_MESSAGE = 10_000;

const EMPTY = Buffer.alloc(0);

/**
 * A cursor over incoming chunks. Bytes in, message boundaries out; no I/O.
 *
 * A message that lies inside one chunk is described in place (`buffer` is
 * that chunk). Only a message that spans chunks is copied, into a buffer
 * allocated once at exactly its length as soon as its header is known.
 * The framer never writes into a buffer it has handed out, so a slice of
 * `buffer` stays valid after later calls.
 */
export class Framer {
  /** Type byte of the current message (0 for untyped). */
  type = 0;
  /** Buffer holding the current message. */
  buffer: Buffer = EMPTY;
  /** Offset of the type byte (or of the length, for untyped). */
  start = 0;
  /** Offset of the body (after the length). */
  bodyStart = 0;
  /** Offset one past the message. */
  end = 0;

  readonly maxMessageLength: number;
  readonly maxStartupLength: number;

  private cur: Buffer = EMPTY;
  private pos = 0;
  private readonly queue: Buffer[] = [];
  private qHead = 0;
  private queued = 0;
  // a message being assembled from several chunks
  private spanning = false;
  private spanHeader = 5;
  private readonly hdr = Buffer.allocUnsafe(5);
  private hdrFill = 0;
  private spill: Buffer | null = null;
  private spillFill = 0;
  private failure: ProtocolError | null = null;

  constructor(maxMessageLength: number = DEFAULT_MAX_MESSAGE, maxStartupLength: number = MAX_STARTUP_MESSAGE) {
    this.maxMessageLength = maxMessageLength;
    this.maxStartupLength = maxStartupLength;
  }

  /** Append a chunk. Keeps a reference; copies only the unconsumed tail when a message spans chunks. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (!this.spanning && this.pos === this.cur.length && this.qHead === this.queue.length) {
      this.cur = chunk;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
      this.queued += chunk.length;
    }
  }

  /** Advance to the next complete typed message. false → need more bytes. Throws ProtocolError on a bad length. */
  next(): boolean {
    return this.advance(5);
  }

  /** Startup phase (no type byte): next untyped message (length includes itself, at least 8). */
  nextUntyped(): boolean {
    return this.advance(4);
  }

  /** Bytes received and not yet returned as a message (a partial message, or messages not yet read). */
  pendingBytes(): number {
    let n = this.cur.length - this.pos + this.queued;
    if (this.spanning) n += this.spill === null ? this.hdrFill : this.spillFill;
    return n;
  }

  /** Hand back every byte received and not yet returned as a message (a partial message included), and reset. */
  takePending(): Buffer | null {
    const parts: Buffer[] = [];
    if (this.spanning) parts.push(this.spill === null ? Buffer.from(this.hdr.subarray(0, this.hdrFill)) : this.spill.subarray(0, this.spillFill));
    if (this.pos < this.cur.length) parts.push(this.cur.subarray(this.pos));
    for (let i = this.qHead; i < this.queue.length; i++) parts.push(this.queue[i]!);
    this.cur = EMPTY;
    this.pos = 0;
    this.queue.length = 0;
    this.qHead = 0;
    this.queued = 0;
    this.spanning = false;
    this.spill = null;
    this.hdrFill = 0;
    const n = parts.reduce((a, b) => a + b.length, 0);
    return n === 0 ? null : Buffer.concat(parts, n);
  }

  /** `buffer.subarray(from, end)`: a run of messages of the current buffer ending with the current one. */
  sliceFrom(from: number): Buffer {
    return this.buffer.subarray(from, this.end);
  }

  private advance(header: 4 | 5): boolean {
    if (this.failure !== null) throw this.failure;
    if (!this.spanning) {
      let cur = this.cur;
      let pos = this.pos;
      if (pos === cur.length) {
        if (this.qHead === this.queue.length) return false;
        cur = this.shift();
        pos = 0;
      }
      const avail = cur.length - pos;
      if (avail >= header) {
        const total = this.check(cur, pos + header - 4, header);
        if (avail >= total) {
          this.type = header === 5 ? cur[pos]! : 0;
          this.buffer = cur;
          this.start = pos;
          this.bodyStart = pos + header;
          this.end = pos + total;
          this.pos = pos + total;
          return true;
        }
      }
      if (this.qHead === this.queue.length) return false; // keep the tail where it is until more arrives
      this.spanning = true;
      this.spanHeader = header;
      this.hdrFill = 0;
      this.spill = null;
    }
    return this.assemble();
  }

  /** Reads the length at `at`, validates it, returns the whole message size (type byte included). */
  private check(buf: Buffer, at: number, header: number): number {
    const len = buf.readInt32BE(at);
    const min = header === 5 ? 4 : 8;
    if (len < min) {
      this.failure = new ProtocolError('WEIR_E_PROTO_BAD_LENGTH', `message length ${len} is below ${min}`);
      throw this.failure;
    }
    const max = header === 5 ? this.maxMessageLength : this.maxStartupLength;
    if (len > max) {
      this.failure = new ProtocolError('WEIR_E_PROTO_TOO_LARGE', `message length ${len} exceeds the maximum of ${max}`);
      throw this.failure;
    }
    return len + header - 4;
  }

  private shift(): Buffer {
    const chunk = this.queue[this.qHead]!;
    this.queue[this.qHead++] = EMPTY;
    if (this.qHead === this.queue.length) {
      this.queue.length = 0;
      this.qHead = 0;
    }
    this.queued -= chunk.length;
    this.cur = chunk;
    this.pos = 0;
    return chunk;
  }

  /** Copies bytes into the message under assembly until it is complete (true) or input runs out (false). */
  private assemble(): boolean {
    const header = this.spanHeader;
    for (;;) {
      if (this.pos === this.cur.length) {
        if (this.qHead === this.queue.length) return false;
        this.shift();
      }
      const cur = this.cur;
      let spill = this.spill;
      if (spill === null) {
        const n = Math.min(header - this.hdrFill, cur.length - this.pos);
        cur.copy(this.hdr, this.hdrFill, this.pos, this.pos + n);
        this.hdrFill += n;
        this.pos += n;
        if (this.hdrFill < header) continue;
        const total = this.check(this.hdr, header - 4, header);
        spill = this.spill = Buffer.allocUnsafe(total);
        this.hdr.copy(spill, 0, 0, header);
        this.spillFill = header;
      }
      const n = Math.min(spill.length - this.spillFill, cur.length - this.pos);
      cur.copy(spill, this.spillFill, this.pos, this.pos + n);
      this.spillFill += n;
      this.pos += n;
      if (this.spillFill === spill.length) {
        this.type = header === 5 ? spill[0]! : 0;
        this.buffer = spill;
        this.start = 0;
        this.bodyStart = header;
        this.end = spill.length;
        this.spanning = false;
        this.spill = null;
        return true;
      }
    }
  }
}
