#!/usr/bin/env node
// A 1:1 TCP pipe in front of PostgreSQL, no pooling and no parsing beyond framing: the floor of
// each I/O path. `node pipe.mjs node|native LISTEN_PORT PG_PORT`; prints "listening" when ready.
//   node   — node:net sockets joined with .pipe()
//   native — @weir/io: login bytes relayed in JavaScript, then the pair linked and forwarded in C
import net from 'node:net';
import { createRequire } from 'node:module';

const [mode, listenPort, pgPort] = process.argv.slice(2);
const require = createRequire(import.meta.url);

if (mode === 'node') {
  net.createServer((c) => {
    const s = net.connect(Number(pgPort), '127.0.0.1');
    c.setNoDelay(true);
    s.setNoDelay(true);
    c.pipe(s).pipe(c);
    c.on('error', () => s.destroy());
    s.on('error', () => c.destroy());
  }).listen(Number(listenPort), '127.0.0.1', () => console.log('listening'));
} else {
  const { loadNative, KIND } = require('../../packages/io/dist/index.js');
  const loaded = loadNative();
  if (!loaded.io) {
    console.error(`pipe: ${loaded.reason}`);
    process.exit(2);
  }
  const io = loaded.io;
  const pairs = new Map(); // connecting server id -> client wrapper
  const noop = () => {};
  io.init([
    (_l, id, fd) => {
      new net.Socket({ fd }).destroy(); // no login of our own: the duplicate is not needed
      const client = { id, server: null, early: [] };
      io.adopt(id, client, KIND.client, 1 << 30);
      pairs.set(io.connect('127.0.0.1', Number(pgPort)), client);
    },
    (sid, status, fd) => {
      const client = pairs.get(sid);
      pairs.delete(sid);
      if (status !== 0) return io.close(client.id);
      new net.Socket({ fd }).destroy();
      const server = { id: sid, client, linked: false };
      client.server = server;
      io.adopt(sid, server, KIND.server, 1 << 30);
      for (const b of client.early) io.write(sid, b);
      client.early = [];
    },
    (w, chunk, ready) => {
      if (w.server !== undefined) { // client bytes (startup, auth) before the link
        if (w.server === null) w.early.push(chunk);
        else io.write(w.server.id, chunk);
        return;
      }
      io.write(w.client.id, chunk);
      // Logged in (the first ReadyForQuery): from now on the bytes move in C, session mode.
      if (ready > 0 && !w.linked) w.linked = io.link(w.client.id, w.id, 0, 0, false, false);
    },
    (w) => {
      const other = w.server !== undefined ? w.server : w.client;
      if (other) io.close(other.id);
    },
    noop, noop, noop, noop,
  ], new Float64Array(16));
  io.listen('127.0.0.1', Number(listenPort), 4096, 1);
  console.log('listening');
}
