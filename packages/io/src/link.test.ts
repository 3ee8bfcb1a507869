import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { KIND, LINK, SLAB, loadNative } from './index.js';

const loaded = loadNative();

/** A stand-in PostgreSQL: answers each Query with CommandComplete + ReadyForQuery 'I'. */
function fakeServer(): Promise<net.Server> {
  const srv = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) break;
        const type = buf[0];
        buf = buf.subarray(len + 1);
        if (type === 0x51) s.write(Buffer.from([0x43, 0, 0, 0, 13, ...Buffer.from('SELECT 1\0'), 0x5a, 0, 0, 0, 5, 0x49]));
      }
    });
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}

/** Wait (bounded) until the condition holds; the assertions that follow say what was expected. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

const q = (sql: string) => {
  const b = Buffer.alloc(6 + sql.length);
  b[0] = 0x51;
  b.writeInt32BE(5 + sql.length, 1);
  b.write(sql, 5);
  return b;
};

describe.skipIf(loaded.io === null)('native link: a client and a server forwarded in C', () => {
  const io = loaded.io!;
  const slab = new Float64Array(16);
  const events: string[] = [];
  const w = { client: { id: 0 }, server: { id: 0 } };
  let onAccept: (id: number) => void = () => {};
  let onConnected: (id: number, status: number | string, fd: number) => void = () => {};
  const clientData: Buffer[] = [];
  io.init([
    (_l: number, id: number) => onAccept(id),
    (id: number, status: number | string, fd: number) => onConnected(id, status, fd),
    (wr: object, chunk: Buffer) => { if (wr === w.client) clientData.push(chunk); },
    (wr: object) => events.push(wr === w.client ? 'client-closed' : 'server-closed'),
    () => events.push('drain'),
    () => events.push(`idle released=${slab[SLAB.released]} queries=${slab[SLAB.queries]} in=${slab[SLAB.bytesIn]} out=${slab[SLAB.bytesOut]}`),
    (_wr: object, why: number) => events.push(`unlinked ${why}`),
    (_wr: object, type: number) => events.push(`event ${String.fromCharCode(type)}`),
    (wr: object) => events.push(wr === w.client ? 'want' : 'want?'),
  ] as never, slab);
  const closers: (() => void)[] = [];
  afterAll(() => closers.forEach((c) => c()));

  /** A listener, a client accepted through it and a server connected natively, both adopted (js mode). */
  async function pair(listenerId: number): Promise<net.Socket> {
    const pg = await fakeServer();
    closers.push(() => pg.close());
    const l = io.listen('127.0.0.1', 0, 128, listenerId);
    closers.push(() => io.listenClose(l.handle));
    const accepted = new Promise<void>((resolve) => {
      onAccept = (id) => {
        w.client.id = id;
        io.adopt(id, w.client, KIND.client, 1 << 26);
        resolve();
      };
    });
    const connected = new Promise<void>((resolve, reject) => {
      onConnected = (id, status, fd) => {
        if (status !== 0) return reject(new Error(String(status)));
        new net.Socket({ fd }).destroy();
        w.server.id = id;
        io.adopt(id, w.server, KIND.server, 1 << 30);
        resolve();
      };
    });
    const sock = net.connect(l.port, '127.0.0.1');
    await accepted;
    io.connect('127.0.0.1', (pg.address() as net.AddressInfo).port);
    await connected;
    return sock;
  }

  it('forwards queries and answers without JavaScript, and reports the release point once per transaction', async () => {
    const sock = await pair(1);
    const answers: Buffer[] = [];
    sock.on('data', (d) => answers.push(d));
    expect(io.link(w.client.id, w.server.id, 1, 0, false, false)).toBe(true);
    sock.write(q('select 1'));
    await until(() => events.length >= 1 && answers.length > 0);
    expect(Buffer.concat(answers).subarray(-6)).toEqual(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]));
    expect(events).toEqual(['idle released=1 queries=1 in=14 out=20']);
    expect(clientData).toEqual([]);
    // Released: the next query comes to JavaScript (which would check a server out again).
    sock.write(q('select 2'));
    await until(() => clientData.length > 0);
    expect(Buffer.concat(clientData)).toEqual(q('select 2'));
    // Linked again, a Terminate ends the link at its boundary and goes to JavaScript.
    clientData.length = 0;
    expect(io.link(w.client.id, w.server.id, 1, 0, false, false)).toBe(true);
    sock.write(Buffer.concat([q('select 3'), Buffer.from([0x58, 0, 0, 0, 4])]));
    await until(() => events.includes('unlinked 1') && clientData.length > 0);
    expect(events.slice(1)).toContain('unlinked 1');
    expect(Buffer.concat(clientData)).toEqual(Buffer.from([0x58, 0, 0, 0, 4]));
    sock.destroy();
    await until(() => events.includes('client-closed'));
    expect(events).toContain('client-closed');
    io.close(w.server.id);
  });

  it('a lying length while linked ends the link and hands the bytes to JavaScript, which refuses them', async () => {
    events.length = 0;
    clientData.length = 0;
    const sock = await pair(2);
    io.link(w.client.id, w.server.id, 1, 0, false, false);
    const bad = Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
    sock.write(Buffer.concat([q('x'), bad]));
    await until(() => events.includes('unlinked 2') && clientData.length > 0);
    expect(events).toContain('unlinked 2');
    expect(Buffer.concat(clientData)).toEqual(bad);
    sock.destroy();
    io.close(w.server.id);
  });
  it('a subscribed message type ends the link once the server owes nothing: its bytes are held until then', async () => {
    events.length = 0;
    clientData.length = 0;
    const sock = await pair(3);
    const answers: Buffer[] = [];
    sock.on('data', (d) => answers.push(d));
    const mask = Buffer.alloc(32);
    mask[0x50 >> 3] |= 1 << (0x50 & 7); // Parse
    const parse = Buffer.from([0x50, 0, 0, 0, 8, 0, 0x78, 0, 0, 0].slice(0, 9));
    parse.writeInt32BE(8, 1);
    // Session mode (no release point): the link ends at the Parse, after the query's answer went out in C.
    expect(io.link(w.client.id, w.server.id, 0, 0, false, false, mask)).toBe(true);
    sock.write(Buffer.concat([q('select 1'), parse]));
    await until(() => events.includes('unlinked 4') && clientData.length > 0);
    expect(Buffer.concat(answers).subarray(-6)).toEqual(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]));
    expect(events.filter((e) => e.startsWith('idle') || e.startsWith('unlinked'))).toEqual(['idle released=0 queries=1 in=14 out=20', 'unlinked 4']);
    expect(Buffer.concat(clientData)).toEqual(parse);
    // Transaction mode: the release point comes first, then the held bytes (a new transaction's start).
    events.length = 0;
    clientData.length = 0;
    expect(io.link(w.client.id, w.server.id, 1, 0, false, false, mask)).toBe(true);
    sock.write(q('select 2'));
    sock.write(parse); // a chunk of its own: the header starts a new chunk
    await until(() => events.length > 0 && clientData.length > 0);
    expect(events.filter((e) => e.startsWith('idle') || e.startsWith('unlinked'))).toEqual(['idle released=1 queries=1 in=14 out=20']);
    expect(Buffer.concat(clientData)).toEqual(parse);
    sock.destroy();
    io.close(w.server.id);
  });
  it('a watched link logs the server messages that ended answers, in order, and says when its log overflowed', async () => {
    events.length = 0;
    const sock = await pair(4);
    expect(io.link(w.client.id, w.server.id, 1, 0, false, false, null, 16)).toBe(true);
    sock.write(q('select 1'));
    await until(() => events.some((e) => e.startsWith('idle')));
    expect(io.linkLog(w.client.id)?.toString('latin1')).toBe('CZ'); // CommandComplete, ReadyForQuery
    expect(io.linkLog(w.client.id)?.length).toBe(0); // read once
    events.length = 0;
    expect(io.link(w.client.id, w.server.id, 1, 0, false, false, null, 1)).toBe(true);
    sock.write(q('select 2'));
    await until(() => events.some((e) => e.startsWith('idle')));
    expect(io.linkLog(w.client.id)).toBeNull();
    expect(io.link(w.client.id, w.server.id, 1, 0, false, false, null, 0)).toBe(true);
    expect(io.linkLog(w.client.id)).toBeNull(); // not watched
    io.unlink(w.client.id);
    sock.destroy();
    io.close(w.server.id);
  });

  it('an armed client: its next chunk waits in C, JavaScript hears only want, and the link forwards it', async () => {
    events.length = 0;
    clientData.length = 0;
    const sock = await pair(5);
    const answers: Buffer[] = [];
    sock.on('data', (d) => answers.push(d));
    expect(io.arm(w.client.id, true)).toBe(true);
    sock.write(q('select 1'));
    const seen = () => events.filter((e) => !e.endsWith('closed'));
    await until(() => events.includes('want'));
    expect(seen()).toEqual(['want']);
    expect(clientData).toEqual([]);
    // The link forwards what was held, counted as its own; rearm arms the client at the release.
    expect(io.link(w.client.id, w.server.id, LINK.txMode | LINK.rearm, 0, false, false)).toBe(true);
    await until(() => seen().length >= 2);
    expect(seen()).toEqual(['want', 'idle released=1 queries=1 in=14 out=20']);
    expect(Buffer.concat(answers).subarray(-6)).toEqual(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]));
    // Armed again: the next transaction asks again. Taken back, the bytes come as data.
    sock.write(q('select 2'));
    await until(() => seen().length >= 3);
    expect(seen()[2]).toBe('want');
    expect(io.takeHeld(w.client.id)).toEqual(q('select 2'));
    expect(io.takeHeld(w.client.id)).toBeNull();
    // Not armed now: bytes go to JavaScript as before.
    sock.write(q('select 3'));
    await until(() => clientData.length > 0);
    expect(Buffer.concat(clientData)).toEqual(q('select 3'));
    expect(seen().length).toBe(3);
    sock.destroy();
    io.close(w.server.id);
  });
  it('an armed client: a Terminate, a lying length, or a second chunk before the link go to JavaScript as data', async () => {
    events.length = 0;
    clientData.length = 0;
    const sock = await pair(6);
    const terminate = Buffer.from([0x58, 0, 0, 0, 4]);
    const asked = () => events.filter((e) => e === 'want').length;
    io.arm(w.client.id, true);
    sock.write(Buffer.concat([q('select 1'), terminate]));
    await until(() => clientData.length > 0);
    expect(Buffer.concat(clientData)).toEqual(Buffer.concat([q('select 1'), terminate]));
    expect(asked()).toBe(0);
    clientData.length = 0;
    io.arm(w.client.id, true);
    const bad = Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
    sock.write(bad);
    await until(() => clientData.length > 0);
    expect(Buffer.concat(clientData)).toEqual(bad);
    expect(asked()).toBe(0);
    clientData.length = 0;
    io.arm(w.client.id, true);
    sock.write(q('select 2'));
    await until(() => events.includes('want'));
    sock.write(q('select 3'));
    await until(() => clientData.length > 0);
    expect(Buffer.concat(clientData)).toEqual(Buffer.concat([q('select 2'), q('select 3')]));
    expect(io.takeHeld(w.client.id)).toBeNull();
    // Closed while armed and holding: the close is seen (reads go on) and nothing leaks.
    const closedBefore = events.filter((e) => e === 'client-closed').length;
    io.arm(w.client.id, true);
    sock.write(q('select 4'));
    await until(() => asked() === 2);
    sock.destroy();
    await until(() => events.filter((e) => e === 'client-closed').length > closedBefore);
    expect(events.filter((e) => e === 'client-closed').length).toBe(closedBefore + 1);
    io.close(w.server.id);
  });
});
