#!/usr/bin/env node
// Opens N idle PostgreSQL client connections (startup + login, then silence)
// against a pooler, reports on stdout as JSON lines, and closes them all when
// its stdin closes (or a line "close" arrives), or at its hard deadline.
//
//   node idle-clients.mjs '{"host":"127.0.0.1","port":6432,"user":"bench","password":"bench",
//                           "database":"bench","count":10000}'
//
// Source addresses are spread over 127.0.0.1, 127.0.0.2, ... (perAddress sockets
// each) so ephemeral ports never run short.
import net from 'node:net';
import { Framer, LoginDriver, startupPacket, terminate } from './pgwire.mjs';

const cfg = {
  host: '127.0.0.1',
  concurrency: 200, // handshakes in flight
  handshakeTimeoutMs: 30_000,
  connectPhaseMs: 180_000, // stop opening new sockets after this
  holdMaxMs: 600_000, // hard cap on the whole run
  perAddress: 5000,
  ...JSON.parse(process.argv[2] ?? '{}'),
};

const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const started = Date.now();
const sockets = new Set();
let next = 0;
let inFlight = 0;
let ready = 0;
let failed = 0;
let dropped = 0;
let firstError = null;
let addrBump = 0;
let connectPhaseOver = false;
let finished = false;

function sourceAddress(i) {
  const k = Math.floor(i / cfg.perAddress) + addrBump;
  if (k === 0) return undefined;
  if (k > 250) return undefined;
  return `127.0.0.${1 + k}`;
}

function fail(err) {
  failed++;
  if (!firstError) firstError = String(err?.message ?? err);
}

function openOne(i, retry = 0) {
  inFlight++;
  const localAddress = sourceAddress(i);
  const sock = net.connect({ host: cfg.host, port: cfg.port, ...(localAddress ? { localAddress } : {}) });
  sockets.add(sock);
  const framer = new Framer();
  const login = new LoginDriver(cfg.user, cfg.password);
  let state = 'login';
  const timer = setTimeout(() => {
    if (state === 'login') finish(new Error(`login timed out after ${cfg.handshakeTimeoutMs} ms`));
  }, cfg.handshakeTimeoutMs);

  function finish(err) {
    if (state !== 'login') return;
    clearTimeout(timer);
    inFlight--;
    if (err) {
      state = 'dead';
      sockets.delete(sock);
      sock.destroy();
      if (err.code === 'EADDRNOTAVAIL' && retry < 3) {
        addrBump++;
        openOne(i, retry + 1);
        return;
      }
      fail(err);
    } else {
      state = 'idle';
      ready++;
    }
    pump();
  }

  sock.setNoDelay(true);
  sock.on('connect', () => {
    sock.write(startupPacket({ user: cfg.user, database: cfg.database, application_name: 'weir-bench-idle' }));
  });
  sock.on('data', (chunk) => {
    if (state !== 'login') return; // idle: ignore anything (ParameterStatus, notices)
    try {
      for (const m of framer.push(chunk)) {
        const out = login.step(m);
        if (out === 'ok') return finish(null);
        if (out) sock.write(out);
      }
    } catch (e) {
      finish(e);
    }
  });
  sock.on('error', (e) => {
    if (state === 'login') finish(e);
  });
  sock.on('close', () => {
    if (state === 'login') finish(new Error('server closed the connection during login'));
    else if (state === 'idle' && !finished) {
      dropped++;
      if (!firstError) firstError = 'server closed an idle connection';
    }
    state = 'dead';
    sockets.delete(sock);
  });
}

function pump() {
  while (!connectPhaseOver && inFlight < cfg.concurrency && next < cfg.count) openOne(next++);
  if (!connectPhaseOver && inFlight === 0 && next >= cfg.count) {
    connectPhaseOver = true;
    clearInterval(progress);
    emit({ done: true, ready: ready - dropped, failed, dropped, firstError, elapsedMs: Date.now() - started });
  }
}

function closeAll() {
  if (finished) return;
  finished = true;
  connectPhaseOver = true;
  clearInterval(progress);
  const term = terminate();
  for (const s of sockets) {
    try {
      if (s.writable) s.end(term);
      else s.destroy();
    } catch {}
  }
  // Give FINs a moment, then destroy whatever is left and exit.
  setTimeout(() => {
    for (const s of sockets) s.destroy();
    emit({ closed: true });
    process.exit(0);
  }, 1000).unref();
  setTimeout(() => process.exit(0), 3000);
}

const progress = setInterval(() => emit({ progress: true, ready, failed, inFlight }), 1000);
setTimeout(() => {
  if (connectPhaseOver) return;
  connectPhaseOver = true;
  clearInterval(progress);
  emit({
    done: true,
    ready: ready - dropped,
    failed: failed + inFlight + (cfg.count - next),
    dropped,
    firstError: firstError ?? `connect phase cut at ${cfg.connectPhaseMs} ms`,
    elapsedMs: Date.now() - started,
  });
}, cfg.connectPhaseMs).unref();
setTimeout(closeAll, cfg.holdMaxMs).unref();

process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (d.includes('close')) closeAll();
});
process.stdin.on('end', closeAll);
process.stdin.on('error', closeAll);

pump();
