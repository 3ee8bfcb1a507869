import { ProtocolError } from './errors.js';

/** Encoded size of a NUL-terminated string. */
export function cstrLen(s: string): number {
  return Buffer.byteLength(s, 'utf8') + 1;
}

/** Encoded size of raw data given as bytes or a string. */
export function dataLen(d: Buffer | string): number {
  return typeof d === 'string' ? Buffer.byteLength(d, 'utf8') : d.length;
}

/**
 * Writes one message into a buffer allocated at exactly its size: callers
 * compute the body length first, so nothing is copied afterwards.
 */
export class Writer {
  readonly buf: Buffer;
  pos = 0;

  private constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** A typed message: type byte and int32 length already written. */
  static typed(type: number, bodyLength: number): Writer {
    if (bodyLength > 0x7fffffff - 4) throw new ProtocolError('WEIR_E_PROTO_TOO_LARGE', 'message body too large');
    const w = new Writer(bodyLength + 5);
    w.buf[0] = type;
    w.buf.writeInt32BE(bodyLength + 4, 1);
    w.pos = 5;
    return w;
  }

  /** An untyped (startup-phase) message: int32 length already written. */
  static untyped(bodyLength: number): Writer {
    if (bodyLength > 0x7fffffff - 4) throw new ProtocolError('WEIR_E_PROTO_TOO_LARGE', 'message body too large');
    const w = new Writer(bodyLength + 4);
    w.buf.writeInt32BE(bodyLength + 4, 0);
    w.pos = 4;
    return w;
  }

  u8(v: number): this {
    this.buf[this.pos++] = v;
    return this;
  }

  i16(v: number): this {
    this.pos = this.buf.writeInt16BE(v, this.pos);
    return this;
  }

  /** A count on the wire (parameters, formats): 0..65535; more cannot be encoded. */
  u16(v: number): this {
    if (v > 0xffff) throw new ProtocolError('WEIR_E_PROTO_TOO_LARGE', `count ${v} exceeds the wire maximum of 65535`);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
    return this;
  }

  i32(v: number): this {
    this.pos = this.buf.writeInt32BE(v, this.pos);
    return this;
  }

  u32(v: number): this {
    this.pos = this.buf.writeUInt32BE(v, this.pos);
    return this;
  }

  /** A NUL-terminated string; a string with an embedded NUL cannot be encoded. */
  cstr(s: string): this {
    if (s.includes('\0')) throw new ProtocolError('WEIR_E_PROTO_MALFORMED', 'string contains a NUL byte');
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = 0;
    return this;
  }

  /** Raw bytes, or a string written as UTF-8 without terminator. */
  data(d: Buffer | string): this {
    if (typeof d === 'string') this.pos += this.buf.write(d, this.pos, 'utf8');
    else this.pos += d.copy(this.buf, this.pos);
    return this;
  }

  /** The finished message; checks the size computed up front was right. */
  done(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`writer: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}
