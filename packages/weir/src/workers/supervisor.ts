import { fork, type ChildProcess } from 'node:child_process';
import { ShareLedger, type Logger } from '@weir/kernel';
import { AggregatorRegistry } from 'prom-client';
import { mergeTables, startMetricsServer, type ProxyConfig } from '@weir/proxy';
import { WORKER_ENV, WORKER_PORT_ENV, type FromWorker, type ToWorker, type WireTable } from './messages.js';

interface Slot { index: number; child: ChildProcess | null; port: number }
type Gather = { sent: number; want: Set<number>; got: Array<{ worker: number; table: WireTable }>; json: object[][]; errors: string[]; done: () => void };

/**
 * general.workers > 1: the process that forks N workers (this CLI with WEIR_WORKER=i and an IPC
 * channel), each a whole weir proxy listening on host:port with SO_REUSEPORT. It has no data
 * path: it holds the shared caps (ShareLedger), gathers SHOW tables, sends state-changing admin
 * commands to every worker, runs RELOAD in two phases, forwards SIGTERM/SIGINT, and replaces a
 * worker that exits unasked.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private readonly ledger = new ShareLedger((m) => this.to(m.worker, m.kind === 'grant'
    ? { t: 'grant', key: m.key, n: m.n } : { t: 'reclaim', key: m.key, n: m.n, force: m.force }));
  private readonly gathers = new Map<number, Gather>();
  private nextId = 1;
  private stopping = false;
  private port = 0;
  private tick: NodeJS.Timeout | null = null;
  private reloading: Promise<string | null> | null = null;
  private resolveExit!: (code: number) => void;
  private readonly exited = new Promise<number>((r) => { this.resolveExit = r; });
  private announced = false;
  private metricsServer: { close(): void } | null = null;

  constructor(private readonly count: number, private readonly config: ProxyConfig, private readonly logger: Logger) {
    this.slots = Array.from({ length: count }, (_, index) => ({ index, child: null, port: 0 }));
  }

  /** Start worker 0 (its port, for general.port 0), then the others; resolves with the exit code. */
  run(): Promise<number> {
    this.port = this.config.general.port;
    this.start(this.slots[0]!);
    process.on('SIGHUP', () => void this.reload());
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    return this.exited;
  }

  private start(slot: Slot): void {
    const env = { ...process.env, [WORKER_ENV]: String(slot.index), ...(this.port ? { [WORKER_PORT_ENV]: String(this.port) } : {}) };
    const child = fork(process.argv[1]!, process.argv.slice(2), { env, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    slot.child = child;
    slot.port = 0;
    this.logger.info({ worker: slot.index, pid: child.pid }, `worker ${slot.index} started (pid ${child.pid})`);
    child.on('message', (m: FromWorker) => this.onMessage(slot, m));
    child.on('exit', (code, signal) => this.onExit(slot, child, code, signal));
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = null;
    this.ledger.dead(slot.index);
    for (const g of this.gathers.values()) if (g.want.delete(slot.index) && g.want.size === 0) g.done();
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.stopping) {
      this.logger.info({ worker: slot.index, code, signal }, `worker ${slot.index} exited (${how})`);
      if (this.slots.every((s) => s.child === null)) {
        if (this.tick) clearInterval(this.tick);
        this.metricsServer?.close();
        this.resolveExit(this.slots.length > 0 ? 0 : 1);
      }
      return;
    }
    this.logger.error({ code: 'WEIR_E_WORKER_EXIT', worker: slot.index, exit_code: code, signal },
      `worker ${slot.index} exited (${how}); starting another (only its clients were cut)`);
    if (!this.announced && slot.index === 0) {
      // It never listened: the config or the port is unusable; give up rather than loop.
      this.stop('SIGTERM');
      this.resolveExit(1);
      return;
    }
    setTimeout(() => { if (!this.stopping) this.start(slot); }, 200).unref();
  }

  private to(worker: number, m: ToWorker): void {
    const c = this.slots[worker]?.child;
    if (c && c.connected) c.send(m);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'ready': return this.ready(slot, m.port);
      case 'ask':
        this.ledger.ask(slot.index, m.key, m.limit);
        this.armTick();
        return;
      case 'release': this.ledger.release(slot.index, m.key, m.n, m.declined); return;
      case 'limit': this.ledger.setLimit(m.key, m.limit); return;
      case 'cancel':
        for (const s of this.slots) if (s !== slot) this.to(s.index, { t: 'cancel', pid: m.pid, secret: m.secret });
        return;
      case 'show': void this.gather(m.what).then(
        (table) => this.to(slot.index, { t: 'show-reply', id: m.id, table }),
        (e: Error) => this.to(slot.index, { t: 'show-reply', id: m.id, error: e.message }));
        return;
      case 'broadcast': void this.broadcast(m.command).then((error) => this.to(slot.index, { t: 'broadcast-reply', id: m.id, error: error ?? undefined }));
        return;
      case 'table-reply':
      case 'metrics-reply':
      case 'run-reply': {
        const g = this.gathers.get(m.id);
        if (!g || !g.want.delete(slot.index)) return;
        if (m.error !== undefined) g.errors.push(`worker ${slot.index}: ${m.error}`);
        if (m.t === 'table-reply' && m.table) g.got.push({ worker: slot.index, table: m.table });
        if (m.t === 'metrics-reply' && m.json) g.json.push(m.json);
        if (g.want.size === 0) g.done();
      }
    }
  }

  private ready(slot: Slot, port: number): void {
    slot.port = port;
    if (slot.index === 0 && this.port === 0) this.port = port;
    if (slot.index === 0 && !this.announced) for (const s of this.slots.slice(1)) this.start(s);
    if (!this.announced && this.slots.every((s) => s.port !== 0)) {
      this.announced = true;
      const g = this.config.general;
      const announce = this.logger.level === 'silent' ? this.logger : this.logger.child({}, { level: 'info' });
      void this.serveMetrics().then(() => announce.info({ address: g.host, port: this.port, workers: this.count },
        `weir listening on ${g.host}:${this.port} (${this.count} workers)`));
    }
  }

  /** metrics_port: the supervisor serves every worker's metrics summed (prom-client's aggregation). */
  private async serveMetrics(): Promise<void> {
    const g = this.config.general;
    if (g.metrics_port <= 0) return;
    const registry = {
      contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE,
      metrics: async () => AggregatorRegistry.aggregate((await this.all((id) => ({ t: 'metrics', id }))).json).metrics(),
    };
    try {
      this.metricsServer = await startMetricsServer({ host: g.metrics_host, port: g.metrics_port, registry: registry as never,
        healthy: () => !this.stopping && this.slots.some((s) => s.port !== 0), logger: this.logger });
    } catch (e) {
      this.logger.error({ err: e }, (e as Error).message);
    }
  }

  /** While a worker waits for a slot: every 100 ms, holders are asked for slots they do not use. */
  private armTick(): void {
    if (this.tick !== null) return;
    this.tick = setInterval(() => {
      if (!this.ledger.waiting) {
        clearInterval(this.tick!);
        this.tick = null;
        return;
      }
      this.ledger.tick();
    }, 100);
    this.tick.unref();
  }

  /** Send `m` (with a fresh id) to every live worker; resolves with the replies once all answered or died. */
  private all(make: (id: number) => ToWorker): Promise<Gather> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const g: Gather = { sent: 0, want: new Set(), got: [], json: [], errors: [], done: () => { this.gathers.delete(id); resolve(g); } };
      this.gathers.set(id, g);
      for (const s of this.slots) if (s.child?.connected) g.want.add(s.index);
      g.sent = g.want.size;
      if (g.want.size === 0) return g.done();
      for (const w of g.want) this.to(w, make(id));
    });
  }

  private async gather(what: string): Promise<WireTable> {
    const g = await this.all((id) => ({ t: 'table', id, what }));
    if (g.got.length === 0) throw new Error(g.errors[0] ?? 'no worker answered');
    g.got.sort((a, b) => a.worker - b.worker);
    return mergeTables(what, g.got as Parameters<typeof mergeTables>[1]);
  }

  /** An admin command for every worker; null if it went through, else the error. */
  private async broadcast(command: string): Promise<string | null> {
    const verb = command.trim().split(/\s+/)[0]!.toUpperCase();
    if (verb === 'RELOAD') return this.reload();
    if (verb === 'SHUTDOWN') this.stopping = true;
    const g = await this.all((id) => ({ t: 'run', id, command }));
    // KILL_CLIENT: the client is in one worker; an error only if no worker had it.
    if (verb === 'KILL_CLIENT') return g.errors.length > 0 && g.errors.length === g.sent ? g.errors[0]! : null;
    return g.errors[0] ?? null;
  }

  /**
   * RELOAD (SIGHUP, or the admin command on any worker): every worker first checks it can load
   * the file (prepare); only if all can, each applies it (commit). A refusal in prepare leaves
   * every worker on the running config.
   */
  reload(): Promise<string | null> {
    if (this.reloading) return this.reloading;
    this.reloading = (async () => {
      const prepared = await this.all((id) => ({ t: 'run', id, command: 'RELOAD', phase: 'prepare' }));
      if (prepared.errors.length > 0) {
        const why = `RELOAD refused, no worker applied it: ${prepared.errors[0]}`;
        this.logger.error({ code: 'WEIR_E_WORKER_RELOAD' }, why);
        return why;
      }
      const committed = await this.all((id) => ({ t: 'run', id, command: 'RELOAD', phase: 'commit' }));
      if (committed.errors.length > 0) {
        this.logger.error({ code: 'WEIR_E_WORKER_RELOAD', errors: committed.errors }, `RELOAD failed in a worker after every worker accepted it: ${committed.errors[0]}`);
        return committed.errors[0]!;
      }
      this.logger.info({ workers: this.count }, `config reloaded in ${this.count} workers`);
      return null;
    })().finally(() => { this.reloading = null; });
    return this.reloading;
  }

  private stop(signal: 'SIGTERM' | 'SIGINT'): void {
    this.stopping = true;
    let left = 0;
    for (const s of this.slots) if (s.child) { left++; s.child.kill(signal); }
    if (left === 0) this.resolveExit(0);
  }
}
