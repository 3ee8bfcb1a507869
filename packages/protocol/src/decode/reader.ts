import { malformed } from '../errors.js';

/** Bounds-checked reads over [pos, end) of a buffer; every overrun is a ProtocolError. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {
    if (pos < 0 || end > buf.length || pos > end) throw malformed('message bounds outside the buffer');
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) throw malformed(`${what}: message body too short`);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  i16(what = 'int16'): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u16(what = 'int16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i32(what = 'int32'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(what = 'int32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Offset of the NUL ending the string at pos; throws when there is none before end. */
  cstrEnd(what = 'string'): number {
    const nul = this.pos < this.end ? this.buf.indexOf(0, this.pos) : -1;
    if (nul === -1 || nul >= this.end) throw malformed(`${what}: missing NUL terminator`);
    return nul;
  }

  cstr(what = 'string'): string {
    const nul = this.cstrEnd(what);
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  /** Skips n bytes. */
  skip(n: number, what = 'data'): void {
    if (n < 0) throw malformed(`${what}: negative length`);
    this.need(n, what);
    this.pos += n;
  }

  /** A copy of the next n bytes (small fields: salts, SASL data). */
  copy(n: number, what = 'data'): Buffer {
    if (n < 0) throw malformed(`${what}: negative length`);
    this.need(n, what);
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Asserts the body was consumed exactly. */
  done(what: string): void {
    if (this.pos !== this.end) throw malformed(`${what}: ${this.end - this.pos} unexpected trailing bytes`);
  }
}
