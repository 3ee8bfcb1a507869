// The few bits of the PostgreSQL v3 wire protocol the bench's raw clients need:
// a startup packet, message framing, and client-side md5 / SCRAM-SHA-256 login.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export const md5hex = (data) => createHash('md5').update(data).digest('hex');

/** md5 password message payload: "md5" + md5hex(md5hex(password + user) + salt). */
export function md5Response(user, password, salt) {
  const inner = md5hex(password + user);
  return 'md5' + md5hex(Buffer.concat([Buffer.from(inner), salt]));
}

export function startupPacket(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) parts.push(k, '\0', v, '\0');
  parts.push('\0');
  const body = Buffer.from(parts.join(''));
  const b = Buffer.alloc(8 + body.length);
  b.writeInt32BE(b.length, 0);
  b.writeInt32BE(196608, 4); // protocol 3.0
  body.copy(b, 8);
  return b;
}

export function message(type, payload) {
  const b = Buffer.alloc(5 + payload.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + payload.length, 1);
  payload.copy(b, 5);
  return b;
}

export const cstr = (s) => Buffer.from(s + '\0');
export const terminate = () => message('X', Buffer.alloc(0));

/** Incremental framer: push chunks, get { type, body } messages. */
export class Framer {
  constructor(maxLen = 1 << 20) {
    this.buf = Buffer.alloc(0);
    this.maxLen = maxLen;
  }
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readInt32BE(1);
      if (len < 4 || len > this.maxLen) throw new Error(`bad message length ${len}`);
      if (this.buf.length < 1 + len) break;
      out.push({ type: String.fromCharCode(this.buf[0]), body: this.buf.subarray(5, 1 + len) });
      this.buf = this.buf.subarray(1 + len);
    }
    return out;
  }
}

/** Field 'M' (message) and 'C' (SQLSTATE) of an ErrorResponse body. */
export function errorText(body) {
  const f = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i]);
    const end = body.indexOf(0, i + 1);
    f[code] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return `${f.S ?? 'ERROR'} ${f.C ?? ''}: ${f.M ?? '(no message)'}`.trim();
}

const saltedCache = new Map();
function hmac(key, data) {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Client side of a login, driven by server messages. Feed each message to
 * step(); it returns a Buffer to send, 'ok' once ReadyForQuery arrives, or null.
 * Throws with the server's error text on ErrorResponse.
 */
export class LoginDriver {
  constructor(user, password) {
    this.user = user;
    this.password = password;
    this.scram = null;
  }
  step({ type, body }) {
    if (type === 'E') throw new Error(errorText(body));
    if (type === 'Z') return 'ok';
    if (type !== 'R') return null; // ParameterStatus, BackendKeyData, Notice
    const code = body.readInt32BE(0);
    switch (code) {
      case 0:
        return null;
      case 3:
        return message('p', cstr(this.password));
      case 5:
        return message('p', cstr(md5Response(this.user, this.password, body.subarray(4, 8))));
      case 10: {
        const mechs = body.toString('utf8', 4).split('\0');
        if (!mechs.includes('SCRAM-SHA-256')) throw new Error(`no supported SASL mechanism in ${mechs.join(',')}`);
        const nonce = randomBytes(18).toString('base64');
        const bare = `n=,r=${nonce}`;
        this.scram = { nonce, bare };
        const first = Buffer.from('n,,' + bare);
        const len = Buffer.alloc(4);
        len.writeInt32BE(first.length);
        return message('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, first]));
      }
      case 11: {
        const serverFirst = body.toString('utf8', 4);
        const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
        if (!attrs.r?.startsWith(this.scram.nonce)) throw new Error('SCRAM: server nonce does not extend ours');
        const iterations = Number(attrs.i);
        const key = `${attrs.s}:${iterations}`;
        let salted = saltedCache.get(key);
        if (!salted) {
          salted = pbkdf2Sync(this.password, Buffer.from(attrs.s, 'base64'), iterations, 32, 'sha256');
          saltedCache.set(key, salted);
        }
        const clientKey = hmac(salted, 'Client Key');
        const storedKey = createHash('sha256').update(clientKey).digest();
        const withoutProof = `c=biws,r=${attrs.r}`;
        const authMessage = `${this.scram.bare},${serverFirst},${withoutProof}`;
        const signature = hmac(storedKey, authMessage);
        const proof = Buffer.alloc(32);
        for (let i = 0; i < 32; i++) proof[i] = clientKey[i] ^ signature[i];
        this.scram.expected = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
        return message('p', Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
      }
      case 12: {
        const v = /v=([^,]+)/.exec(body.toString('utf8', 4));
        if (!v || v[1] !== this.scram?.expected) throw new Error('SCRAM: bad server signature');
        return null;
      }
      default:
        throw new Error(`unsupported authentication request ${code}`);
    }
  }
}
