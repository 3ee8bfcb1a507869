/** Raw extended-protocol round trips for the prepared-statements e2e files. */
import type { RawSession } from '../helpers.js';

export interface Msg1 {
  type: string;
  body: Buffer;
}

/** Send bytes, collect messages until `readies` ReadyForQuery have come. */
export async function roundTrip(s: RawSession, bytes: Buffer[], readies = 1): Promise<Msg1[]> {
  s.socket.write(Buffer.concat(bytes));
  const out: Msg1[] = [];
  let seen = 0;
  // Bounded: at most 1,000 messages per round trip in these tests.
  for (let i = 0; i < 1000 && seen < readies; i++) {
    const m = await s.readMsg(30_000);
    out.push(m);
    if (m.type === 'Z') seen++;
  }
  return out;
}

export const types = (ms: Msg1[]) => ms.map((m) => m.type).join('');
export const field = (m: Msg1, f: string) => {
  let p = 0;
  while (p < m.body.length && m.body[p] !== 0) {
    const e = m.body.indexOf(0, p + 1);
    if (String.fromCharCode(m.body[p]) === f) return m.body.toString('utf8', p + 1, e);
    p = e + 1;
  }
  return undefined;
};
export const dataRows = (ms: Msg1[]) => ms.filter((m) => m.type === 'D').map((m) => {
  const n = m.body.readInt16BE(0);
  const vals: Array<string | null> = [];
  let p = 2;
  for (let i = 0; i < n; i++) {
    const len = m.body.readInt32BE(p);
    p += 4;
    vals.push(len < 0 ? null : m.body.toString('utf8', p, p + len));
    if (len > 0) p += len;
  }
  return vals;
});
