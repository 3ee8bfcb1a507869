/**
 * Test-only: a simulated pooler (the client session's rules for acquiring and releasing server
 * connections) around the real Interceptor and the plugin's handlers, over FakeBackend server
 * connections, for the prepared-statements model test (client programs: programs.test-util.ts).
 */
import { expect } from 'vitest';
import { Framer, Msg } from '@weir/protocol';
import { MessageHooks } from '../../../packages/proxy/src/intercept/hooks.js';
import { Interceptor, type InterceptIO } from '../../../packages/proxy/src/intercept/interceptor.js';
import { installProxyHandlers } from './proxy-handlers.js';
import { StatementCache } from './statement-cache.js';
import { StatementRegistry } from './statements.js';
import { FakeBackend, normalise } from './fake-backend.test-util.js';
import { describeProgram } from './programs.test-util.js';

// ------------------------------------------------------------------ the pooler around the interceptor

/** Deterministic PRNG for the schedule (fast-check shrinks the programs; the seed replays it). */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

class ServerSim {
  readonly backend: FakeBackend;
  inbound: Buffer[] = [];
  outbound: Buffer = Buffer.alloc(0);
  owner: ClientSim | null = null;
  /** Counts ReadyForQuery in what is delivered (the session's server-side scanner). */
  readonly counter = new Framer();
  status = 0x49;

  constructor(readonly id: number) {
    this.backend = new FakeBackend(id);
  }
}

export class ClientSim implements InterceptIO {
  readonly ic: Interceptor;
  readonly bytes: Buffer;
  sent = 0;
  server: ServerSim | null = null;
  queue: Buffer[] = [];
  waiting = false;
  readonly received: Buffer[] = [];
  pending = 0;
  unsynced = false;
  readonly scanner = new Framer();

  /** Byte offset where each sync point (Sync, Query) of the program ends. */
  readonly groupEnds: number[] = [];
  /** ReadyForQuery messages received. */
  ready = 0;
  private readonly readyCounter = new Framer();

  /** pipelined: sends ahead; otherwise waits for each ReadyForQuery before sending what follows it. */
  constructor(readonly id: number, program: Buffer[], hooks: MessageHooks, readonly pipelined = true) {
    this.bytes = Buffer.concat(program);
    let at = 0;
    for (const m of program) {
      at += m.length;
      if (m[0] === Msg.Sync || m[0] === Msg.Query) this.groupEnds.push(at);
    }
    this.ic = new Interceptor(id, 'app@db', hooks, 1 << 26);
  }

  /** How far the client may have sent by now. */
  get limit(): number {
    if (this.pipelined) return this.bytes.length;
    return this.ready < this.groupEnds.length ? this.groupEnds[this.ready] : this.bytes.length;
  }

  toServer(b: Buffer): void {
    this.server!.inbound.push(b);
  }

  toClient(b: Buffer): void {
    this.received.push(Buffer.from(b));
    this.readyCounter.push(b);
    while (this.readyCounter.next()) if (this.readyCounter.type === Msg.ReadyForQuery) this.ready++;
  }

  get done(): boolean {
    return this.sent === this.bytes.length && this.queue.length === 0 && this.server === null && !this.waiting;
  }
}

export interface RunConfig {
  /** Clients send ahead of the answers (else each waits for ReadyForQuery before sending on). */
  pipelined?: boolean;
  /** Distinct statement shapes the registry remembers (max_statements). */
  maxStatements?: number;
  maxBytes?: number;
  maxClientBytes?: number;
  servers: number;
  max: number;
  cacheAnonymous: boolean;
  seed: number;
  /** Drop idle server connections now and then. */
  drops: boolean;
}

export interface RunResult {
  clients: ClientSim[];
  backends: FakeBackend[];
  cache: StatementCache;
  stats: { hits: number; misses: number; evictions: number };
  problems: string[];
}

export function run(programs: Buffer[][], cfg: RunConfig): RunResult {
  const rnd = prng(cfg.seed);
  const hooks = new MessageHooks();
  const cache = new StatementCache(cfg.max);
  const registry = new StatementRegistry({ maxStatements: cfg.maxStatements ?? 1000, maxBytes: cfg.maxBytes ?? 1024 ** 3 });
  installProxyHandlers(hooks as never, cache, registry, { cacheAnonymous: cfg.cacheAnonymous, maxClientBytes: cfg.maxClientBytes ?? 1024 ** 3 });
  let nextId = 1;
  const servers: ServerSim[] = [];
  const backends: FakeBackend[] = [];
  const problems: string[] = [];
  const newServer = (): ServerSim => {
    const s = new ServerSim(nextId++);
    backends.push(s.backend);
    return s;
  };
  for (let i = 0; i < cfg.servers; i++) servers.push(newServer());
  const idle: ServerSim[] = [...servers];
  const waiters: ClientSim[] = [];
  const clients = programs.map((p, i) => new ClientSim(1000 + i, p, hooks, cfg.pipelined ?? true));

  const check = (s: ServerSim, when: string): void => {
    const b = s.backend;
    if (b.named.size > cfg.max) problems.push(`server ${s.id} holds ${b.named.size} statements > ${cfg.max} (${when})`);
    const c = cache.peek(s.id);
    if (c && c.size > cfg.max) problems.push(`cache of server ${s.id} holds ${c.size} > ${cfg.max} (${when})`);
  };

  /** The session's canRelease + release. */
  const maybeRelease = (c: ClientSim, s: ServerSim): void => {
    if (c.pending > 0 || s.status !== 0x49 || c.unsynced || c.queue.length !== 0 || c.scanner.pendingBytes() !== 0 ||
      s.counter.pendingBytes() !== 0 || !c.ic.idle()) return;
    c.ic.detach();
    c.server = null;
    c.pending = 0;
    s.owner = null;
    check(s, 'release');
    // Whenever a connection goes back to the pool, every statement the cache lists exists there,
    // and the server holds nothing else but names the cache knows it may hold (to be closed).
    const conn = cache.peek(s.id);
    const cached = new Set(conn?.list() ?? []);
    const real = [...s.backend.named.keys()];
    const missing = [...cached].filter((n) => !s.backend.named.has(n));
    const unknown = real.filter((n) => !cached.has(n) && !(conn as { isDoubtful?: (n: string) => boolean } | undefined)?.isDoubtful?.(n));
    if (missing.length || unknown.length) problems.push(`server ${s.id}: cache lists ${JSON.stringify([...cached])}, server has ${JSON.stringify(real)}`);
    const w = waiters.shift();
    if (w) attach(w, s);
    else idle.push(s);
  };

  const attach = (c: ClientSim, s: ServerSim): void => {
    c.waiting = false;
    c.server = s;
    s.owner = c;
    c.pending = 0; // as the session does
    c.ic.attach(c, s.id);
    const q = c.queue;
    c.queue = [];
    for (const chunk of q) c.ic.clientChunk(chunk);
  };

  const send = (c: ClientSim, n: number): void => {
    const chunk = c.bytes.subarray(c.sent, Math.min(c.limit, c.sent + n));
    if (chunk.length === 0) return;
    c.sent += chunk.length;
    c.scanner.push(chunk);
    while (c.scanner.next()) {
      const t = c.scanner.type;
      if (t === Msg.Query) c.pending++;
      else if (t === Msg.Sync) {
        c.pending++;
        c.unsynced = false;
      } else c.unsynced = true;
    }
    if (c.server !== null) c.ic.clientChunk(chunk);
    else {
      c.queue.push(chunk);
      if (!c.waiting) {
        const s = idle.shift();
        if (s) attach(c, s);
        else {
          c.waiting = true;
          waiters.push(c);
        }
      }
    }
  };

  const serve = (s: ServerSim): void => {
    if (s.inbound.length === 0) return;
    const input = Buffer.concat(s.inbound);
    s.inbound = [];
    // The server may read its input in pieces too.
    let p = 0;
    while (p < input.length) {
      const n = 1 + rnd(input.length - p);
      s.backend.receive(input.subarray(p, p + n));
      p += n;
    }
    s.outbound = Buffer.concat([s.outbound, s.backend.take()]);
    check(s, 'serve');
  };

  const deliver = (s: ServerSim, n: number): void => {
    const c = s.owner;
    if (c === null || s.outbound.length === 0) return;
    const chunk = Buffer.from(s.outbound.subarray(0, n));
    s.outbound = s.outbound.subarray(chunk.length);
    let ready = 0;
    s.counter.push(chunk);
    while (s.counter.next()) {
      if (s.counter.type === Msg.ReadyForQuery) {
        ready++;
        s.status = s.counter.buffer[s.counter.bodyStart];
      }
    }
    c.ic.serverChunk(chunk);
    if (ready !== 0) {
      c.pending -= ready;
      if (c.pending <= 0) maybeRelease(c, s);
    }
  };

  const drop = (): void => {
    if (!cfg.drops || idle.length === 0) return;
    const i = rnd(idle.length);
    const s = idle[i];
    cache.drop(s.id); // what the plugin's `drop` hook does
    if (cache.peek(s.id) !== undefined) problems.push(`cache of dropped server ${s.id} still there`);
    const fresh = newServer();
    servers[servers.indexOf(s)] = fresh;
    idle[i] = fresh;
  };

  // Random interleaving, then drain. Bounded: every step either moves bytes or is a no-op.
  const step = (): void => {
    const k = rnd(20);
    if (k < 7) {
      const c = clients[rnd(clients.length)];
      if (c.sent < c.limit) send(c, 1 + rnd(rnd(4) === 0 ? 8 : 200));
    } else if (k < 12) serve(servers[rnd(servers.length)]);
    else if (k < 19) {
      const s = servers[rnd(servers.length)];
      deliver(s, 1 + rnd(rnd(3) === 0 ? 6 : 300));
    } else drop();
  };
  for (let i = 0; i < 4000 && !clients.every((c) => c.done); i++) step();
  for (let round = 0; round < 100_000 && !clients.every((c) => c.done); round++) {
    let moved = false;
    for (const c of clients) {
      if (c.sent < c.limit) {
        send(c, 1 + rnd(300));
        moved = true;
      }
    }
    for (const s of servers) {
      if (s.inbound.length > 0) {
        serve(s);
        moved = true;
      }
      if (s.owner !== null && s.outbound.length > 0) {
        deliver(s, 1 + rnd(400));
        moved = true;
      }
    }
    if (!moved) {
      problems.push(`stuck: ${clients.filter((c) => !c.done).map((c) => `client ${c.id} pending=${c.pending} server=${c.server?.id} waiting=${c.waiting} idle=${c.ic.idle()}`).join('; ')}`);
      break;
    }
  }
  // No cache outlives its connection.
  const live = new Set(servers.map((s) => s.id));
  for (let id = 1; id < nextId; id++) if (!live.has(id) && cache.peek(id) !== undefined) problems.push(`cache of dropped server ${id} is back`);
  const stats = cache.poolStats('app@db');
  return { clients, backends, cache, stats: { ...stats }, problems };
}

/** What a client would have received on a dedicated PostgreSQL connection. */
export function reference(program: Buffer[]): Buffer {
  const b = new FakeBackend();
  for (const m of program) b.receive(m);
  return b.take();
}

/** Messages as short strings, for failure reports. */
function show(ms: Array<{ type: string; body: string }>): string[] {
  return ms.map((m) => `${m.type}${m.body.replace(/[\x00-\x1f\x7f-\xff]/g, '.').slice(0, 60)}`);
}

export function compare(programs: Buffer[][], result: RunResult): void {
  expect(result.problems).toEqual([]);
  for (let i = 0; i < programs.length; i++) {
    const got = normalise(Buffer.concat(result.clients[i].received));
    const want = normalise(reference(programs[i]));
    if (JSON.stringify(got) === JSON.stringify(want)) continue;
    let at = 0;
    while (at < got.length && at < want.length && JSON.stringify(got[at]) === JSON.stringify(want[at])) at++;
    expect({ client: i, program: describeProgram(programs[i]), firstDifference: at, got: show(got.slice(Math.max(0, at - 3), at + 4)) })
      .toEqual({ client: i, program: describeProgram(programs[i]), firstDifference: at, got: show(want.slice(Math.max(0, at - 3), at + 4)) });
  }
  for (const b of result.backends) expect(b.maxNamed).toBeLessThanOrEqual(result.cache.maxPerConnection);
}
