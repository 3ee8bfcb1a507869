import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { KIND, loadNative } from './index.js';

const loaded = loadNative();

/**
 * `n` TCP connections to 127.0.0.1:port made by another process while this one's event loop is
 * blocked (execFileSync): the kernel completes them and they wait in the listener's accept queue.
 * Each is closed by the client right away; it stays queued until accepted. True if all connected.
 */
function connectWhileBlocked(port: number, n: number): boolean {
  const script = `for i in $(seq ${n}); do exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1; exec 3>&-; done`;
  try {
    execFileSync('bash', ['-c', script], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(loaded.io === null)('native listener: SO_REUSEPORT, and closing without resetting what is queued', () => {
  const io = loaded.io!;
  const accepted: number[] = [];
  /** Set by a test to keep what its listener accepts; otherwise each connection is closed. */
  let onAccept: ((id: number) => void) | null = null;
  const closed: object[] = [];
  io.init([
    (_l: number, id: number) => {
      if (onAccept !== null) return onAccept(id);
      accepted.push(id);
      io.close(id);
    },
    () => {}, () => {}, (w: object) => closed.push(w), () => {}, () => {}, () => {}, () => {}, () => {},
  ] as never, new Float64Array(16));
  const closers: (() => void)[] = [];
  afterAll(() => closers.forEach((c) => c()));

  it('listeners with reuseport share a port; one without cannot bind it', () => {
    const a = io.listen('127.0.0.1', 0, 128, 1, true);
    closers.push(() => io.listenClose(a.handle));
    const b = io.listen('127.0.0.1', a.port, 128, 2, true);
    closers.push(() => io.listenClose(b.handle));
    expect(b.port).toBe(a.port);
    expect(() => io.listen('127.0.0.1', a.port, 128, 3, false)).toThrow(/EADDRINUSE|address already in use/i);
    const other = io.listen('127.0.0.1', 0, 128, 4, false);
    closers.push(() => io.listenClose(other.handle));
    expect(() => io.listen('127.0.0.1', other.port, 128, 5, true)).toThrow(/EADDRINUSE|address already in use/i);
  });

  it('listenClose(handle, true) hands over the queued connections and then refuses new ones', () => {
    const l = io.listen('127.0.0.1', 0, 128, 6, true);
    expect(connectWhileBlocked(l.port, 3)).toBe(true);
    const ids = io.listenClose(l.handle, true);
    expect(accepted).toEqual([]); // the loop never ran: all three were still queued
    expect(ids).toHaveLength(3);
    for (const id of ids) {
      // Each is a connection of the plane's own, with its peer's address.
      expect(io.peer(id)[0]).toBe('127.0.0.1');
      io.close(id);
    }
    expect(connectWhileBlocked(l.port, 1)).toBe(false);
    expect(io.listenClose(l.handle, true)).toEqual([]); // closed once
  });

  it('bindSocket + node:net listen({ fd }) + stopListening: queued connections come back as fds', async () => {
    const fd = io.bindSocket('127.0.0.1', 0, true);
    const server = net.createServer((s) => s.destroy());
    server.listen({ fd });
    const port = (server.address() as net.AddressInfo).port;
    const twin = io.bindSocket('127.0.0.1', port, true); // SO_REUSEPORT: a second socket binds the same port
    fs.closeSync(twin);
    expect(connectWhileBlocked(port, 2)).toBe(true);
    const fds = io.stopListening(fd);
    expect(fds).toHaveLength(2);
    for (const c of fds) fs.closeSync(c);
    expect(connectWhileBlocked(port, 1)).toBe(false);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('peer names both ends; detach gives node:net a working duplicate and closes the plane\'s handle without a close callback', async () => {
    const l = io.listen('127.0.0.1', 0, 128, 7);
    closers.push(() => io.listenClose(l.handle));
    const got = new Promise<number>((resolve) => (onAccept = resolve));
    const client = net.connect(l.port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    const id = await got;
    onAccept = null;
    expect(io.peer(id)).toEqual(['127.0.0.1', client.localPort, '127.0.0.1', l.port]);
    const wrapper = {};
    expect(io.adopt(id, wrapper, KIND.client, 1 << 20)).toBe(true);
    const fd = io.detach(id);
    expect(fd).toBeGreaterThan(2);
    expect(io.detach(id)).toBeLessThan(0); // gone from the plane
    expect(io.peer(id)).toEqual([]);
    const moved = new net.Socket({ fd, readable: true, writable: true });
    const echoed = new Promise<string>((resolve) => client.once('data', (d) => resolve(d.toString())));
    moved.once('data', (d) => moved.write(d));
    client.write('hello');
    expect(await echoed).toBe('hello');
    moved.destroy();
    client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).not.toContain(wrapper);
  });
});
