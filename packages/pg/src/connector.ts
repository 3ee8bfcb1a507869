import pg from 'pg';
import type { ConnectContext, Connector, DropReason } from '@weir/kernel';

/** A class that builds node-postgres clients: `pg.Client` or a subclass of it. */
export type ClientClass = new (config?: pg.ClientConfig) => pg.Client;

export interface PgConnectorOptions {
  /** Client class to build (default `pg.Client`). */
  Client?: ClientClass;
  /** Called when a pooled client emits 'error' (after the pool has been told). */
  onError?: (error: Error, client: pg.Client) => void;
  /** How long `destroy` waits for a graceful `end()` before cutting the socket (default 5000 ms). */
  endTimeoutMs?: number;
}

/** pg.Client's private state the connector reads to tell whether a client is still usable. */
interface ClientInternals {
  _ending?: boolean;
  _queryable?: boolean;
  _ended?: boolean;
  connection?: { stream?: { destroy?(): void } };
}

/** True while a pg.Client can still run queries (not ending, socket not dead). */
export function isUsable(client: pg.Client): boolean {
  const c = client as unknown as ClientInternals;
  return c._ending !== true && c._queryable !== false && c._ended !== true;
}

/**
 * A kernel Connector for node-postgres: `connect` opens a `pg.Client` with `config`, `destroy`
 * ends it, `validate` rejects clients whose socket died while idle. A client's 'error' event is
 * reported to the pool (idle: closed at once; leased: destroyed when it comes back), so an idle
 * client losing its server never crashes the process.
 */
export class PgConnector implements Connector<pg.Client> {
  private readonly Client: ClientClass;
  private readonly endTimeoutMs: number;

  constructor(
    readonly config: pg.ClientConfig,
    private readonly options: PgConnectorOptions = {},
  ) {
    this.Client = options.Client ?? pg.Client;
    this.endTimeoutMs = options.endTimeoutMs ?? 5_000;
  }

  async connect(ctx: ConnectContext): Promise<pg.Client> {
    const client = new this.Client(this.config);
    client.on('error', (err: Error) => {
      ctx.reportError?.(err);
      this.options.onError?.(err, client);
    });
    const abort = (): void => {
      void client.end().catch(() => undefined);
    };
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('connect aborted');
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      await client.connect();
    } catch (err) {
      // pg leaves the socket open on some failures (e.g. auth): make sure it is gone
      void client.end().catch(() => undefined);
      throw ctx.signal.aborted ? (ctx.signal.reason ?? err) : err;
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
    return client;
  }

  destroy(client: pg.Client, _reason: DropReason): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        (client as unknown as ClientInternals).connection?.stream?.destroy?.();
        resolve();
      }, this.endTimeoutMs);
      timer.unref();
      client.end().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        () => {
          clearTimeout(timer);
          resolve();
        },
      );
    });
  }

  validate(client: pg.Client): boolean {
    return isUsable(client);
  }
}
