import { SharedBudget, WeirError, type Logger } from '@weir/kernel';
import type { Proxy, ProxyWorkerLink } from '@weir/proxy';
import type { FromWorker, ToWorker, WireTable } from './messages.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * A worker process's end of the IPC channel to the supervisor: its caps are shares
 * (SharedBudget) the supervisor rebalances; SHOW tables and state-changing admin commands go
 * through the supervisor to every worker; the supervisor's requests are answered here.
 */
export class WorkerLink implements ProxyWorkerLink {
  private readonly budgets = new Map<string, SharedBudget>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private proxy: Proxy | null = null;

  constructor(readonly index: number, private readonly logger: Logger) {
    process.on('message', (m: ToWorker) => this.onMessage(m));
    // The supervisor is gone (killed): no one holds the caps or replaces workers; drain and exit.
    process.on('disconnect', () => {
      this.logger.error({ worker: index }, `worker ${index}: the supervisor is gone; shutting down`);
      void this.proxy?.shutdown('graceful').finally(() => process.exit(0));
    });
  }

  attach(proxy: Proxy): void {
    this.proxy = proxy;
  }

  private send(m: FromWorker): void {
    if (process.connected) process.send!(m);
  }

  budget(name: string, limit: number): SharedBudget {
    let b = this.budgets.get(name);
    if (b === undefined) {
      b = new SharedBudget(name, limit, {
        ask: (key, l) => this.send({ t: 'ask', key, limit: l }),
        release: (key, n, declined = 0) => this.send({ t: 'release', key, n, declined }),
        limit: (key, l) => this.send({ t: 'limit', key, limit: l }),
      });
      this.budgets.set(name, b);
    }
    return b;
  }

  cancel(pid: number, secret: number): void {
    this.send({ t: 'cancel', pid, secret });
  }

  ready(port: number): void {
    this.send({ t: 'ready', port });
  }

  show(what: string): Promise<WireTable> {
    return this.request({ t: 'show', id: 0, what }) as Promise<WireTable>;
  }

  async broadcast(command: string): Promise<void> {
    await this.request({ t: 'broadcast', id: 0, command });
  }

  private request(m: Extract<FromWorker, { id: number }>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ ...m, id } as FromWorker);
    });
  }

  private onMessage(m: ToWorker): void {
    switch (m.t) {
      case 'grant': this.budgets.get(m.key)?.granted(m.n); return;
      case 'cancel': this.proxy?.cancelForwarded(m.pid, m.secret); return;
      case 'reclaim': {
        const b = this.budgets.get(m.key);
        if (b) b.reclaim(m.n, m.force);
        else this.send({ t: 'release', key: m.key, n: 0, declined: m.n });
        return;
      }
      case 'table': {
        try {
          const table = this.proxy!.adminTable(m.what);
          this.send({ t: 'table-reply', id: m.id, table: { columns: table.columns, rows: table.rows } });
        } catch (e) {
          this.send({ t: 'table-reply', id: m.id, error: (e as Error).message });
        }
        return;
      }
      case 'run': void this.run(m); return;
      case 'metrics':
        this.proxy!.kernel.metrics.getMetricsAsJSON().then(
          (json) => this.send({ t: 'metrics-reply', id: m.id, json: json as object[] }),
          (e: Error) => this.send({ t: 'metrics-reply', id: m.id, error: e.message }));
        return;
      case 'show-reply':
      case 'broadcast-reply': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.error !== undefined) p.reject(Object.assign(new WeirError('WEIR_E_WORKER_ADMIN', m.error, { worker: this.index }), { sqlstate: 'sqlstate' in m ? m.sqlstate : undefined }));
        else p.resolve(m.t === 'show-reply' ? m.table : undefined);
      }
    }
  }

  private async run(m: Extract<ToWorker, { t: 'run' }>): Promise<void> {
    const proxy = this.proxy!;
    try {
      if (m.phase === 'prepare') {
        const why = proxy.prepareReload();
        if (why !== null) throw new Error(why);
      } else if (m.phase === 'commit') {
        const r = await proxy.reload();
        if (!r.ok) throw new Error(r.error);
      } else {
        await proxy.adminLocal(m.command);
      }
      this.send({ t: 'run-reply', id: m.id });
    } catch (e) {
      this.logger.warn({ worker: this.index, command: m.command }, `worker ${this.index}: ${m.command} failed: ${(e as Error).message}`);
      this.send({ t: 'run-reply', id: m.id, error: (e as Error).message, sqlstate: (e as { sqlstate?: string }).sqlstate });
    }
  }
}
