/**
 * Walks PostgreSQL message headers in a byte stream that arrives in arbitrary chunks,
 * without copying bodies: the forwarding path hands chunks on whole and only needs to
 * know where messages start and end, and the bodies of a few small message types.
 *
 * interest[type]: 0 = skip, 1 = report at message end (no body), 2 = report with body
 * (captured into a buffer only when it spans chunks).
 */
export const SKIP = 0;
export const NOTIFY = 1;
export const BODY = 2;

export interface ScanSink {
  /**
   * A message of interest ended. `body` holds its body in [bodyStart, bodyEnd) for BODY
   * interest (otherwise body is the chunk and the range is empty); `end` is the offset in
   * the current chunk just past the message.
   */
  onMessage(type: number, body: Buffer, bodyStart: number, bodyEnd: number, end: number): void;
}

export class ScanError extends Error {
  readonly code = 'WEIR_E_PROTO_BAD_LENGTH';
}

export class Scanner {
  private headerLength = 0; // the length field gathered byte by byte when a header spans chunks
  private headerLen = 0;
  private type = 0;
  private remaining = 0; // body bytes still to come for the current message
  private capture: Buffer | null = null;
  private captured = 0;
  private inBody = false;
  /** A framing error was thrown: the stream has no boundary any more (see atBoundary). */
  private failed = false;

  constructor(
    private readonly interest: Uint8Array,
    private readonly sink: ScanSink,
    private readonly maxLength: number,
  ) {}

  /**
   * True when no message is partly received. Never again after a framing error: bytes of the
   * broken message may already be on their way, so whoever got them must not be reused.
   */
  atBoundary(): boolean {
    return this.headerLen === 0 && !this.inBody && !this.failed;
  }

  reset(): void {
    this.failed = false;
    this.headerLen = 0;
    this.inBody = false;
    this.capture = null;
    this.captured = 0;
  }

  scan(chunk: Buffer): void {
    if (this.failed) throw new ScanError('stream scanned after a framing error');
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (!this.inBody) {
        // Fast path: the whole header is in this chunk.
        if (this.headerLen === 0 && len - pos >= 5) {
          this.type = chunk[pos];
          this.remaining = chunk.readInt32BE(pos + 1) - 4;
          pos += 5;
        } else {
          while (this.headerLen < 5 && pos < len) {
            const b = chunk[pos++];
            if (this.headerLen === 0) {
              this.type = b;
              this.headerLength = 0;
            } else {
              this.headerLength = (this.headerLength << 8) | b;
            }
            this.headerLen++;
          }
          if (this.headerLen < 5) return;
          this.remaining = this.headerLength - 4;
        }
        if (this.remaining < 0 || this.remaining > this.maxLength) {
          this.failed = true;
          throw new ScanError(`message length ${this.remaining + 4} out of bounds (type 0x${this.type.toString(16)})`);
        }
        this.headerLen = 0;
        this.inBody = true;
      }
      const want = this.interest[this.type];
      const avail = len - pos;
      if (avail >= this.remaining && this.capture === null) {
        // The rest of the message is in this chunk.
        const bodyStart = pos;
        pos += this.remaining;
        this.remaining = 0;
        this.inBody = false;
        if (want !== SKIP) {
          if (want === BODY) this.sink.onMessage(this.type, chunk, bodyStart, pos, pos);
          else this.sink.onMessage(this.type, chunk, pos, pos, pos);
        }
        continue;
      }
      // The message spans chunks.
      if (want === BODY) {
        if (this.capture === null) {
          this.capture = Buffer.allocUnsafe(this.remaining);
          this.captured = 0;
        }
        const n = Math.min(avail, this.remaining);
        chunk.copy(this.capture, this.captured, pos, pos + n);
        this.captured += n;
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) {
          const body = this.capture;
          this.capture = null;
          this.inBody = false;
          this.sink.onMessage(this.type, body, 0, body.length, pos);
        }
        continue;
      }
      const n = Math.min(avail, this.remaining);
      pos += n;
      this.remaining -= n;
      if (this.remaining === 0) {
        this.inBody = false;
        if (want === NOTIFY) this.sink.onMessage(this.type, chunk, pos, pos, pos);
      }
    }
  }
}

export function interestTable(entries: Record<number, number>): Uint8Array {
  const t = new Uint8Array(256);
  for (const [k, v] of Object.entries(entries)) t[Number(k)] = v;
  return t;
}
