import type { Connector, ConnectContext, DropReason } from '@weir/kernel';
import { ServerConnection, type ServerAddress } from './connection.js';
import type { ServerCredentials } from './credentials.js';
import type { ServerTls } from './tls.js';
import type { NativePlane } from '../stream/native.js';

/**
 * Where a pool's server connections go and how they log in. `credentials` is read at
 * every connect: SCRAM passthrough keys arrive with the first client that logs in.
 */
export interface ServerTarget {
  readonly address: ServerAddress;
  credentials: ServerCredentials;
  /** Passthrough: the pool logs in as the client's own user with the client's secret. */
  readonly passthrough: boolean;
  /** ParameterStatus values of the first connection made, to greet clients with. */
  welcome: ReadonlyMap<string, string> | null;
  /** TLS to the server (null: plaintext, as server_tls_sslmode disable). */
  readonly tls?: ServerTls | null;
}

export class ServerConnector implements Connector<ServerConnection> {
  /** `plane`: connections go through the native data plane (null: node:net). */
  constructor(readonly target: ServerTarget, private readonly plane: NativePlane | null = null) {}

  async connect(ctx: ConnectContext): Promise<ServerConnection> {
    const conn = await this.open(ctx);
    conn.reportIdleBroken = ctx.reportError;
    if (this.target.welcome === null) this.target.welcome = new Map(conn.params);
    return conn;
  }

  /** server_tls_sslmode allow: plaintext first, TLS if the server refused plaintext (pg_hba hostssl). */
  private async open(ctx: ConnectContext): Promise<ServerConnection> {
    const { address, credentials, tls } = this.target;
    if (tls?.mode !== 'allow') return ServerConnection.open(ctx.id, address, credentials, ctx.signal, undefined, tls, this.plane);
    try {
      return await ServerConnection.open(ctx.id, address, credentials, ctx.signal, undefined, null, this.plane);
    } catch (e) {
      const err = e as { code?: string; details?: { sqlstate?: unknown } };
      if (err.code !== 'WEIR_E_SERVER_LOGIN' || err.details?.sqlstate !== '28000') throw e;
      return ServerConnection.open(ctx.id, address, credentials, ctx.signal, undefined, { ...tls, mode: 'require' }, this.plane);
    }
  }

  destroy(conn: ServerConnection, _reason: DropReason): void {
    conn.close();
  }

  validate(conn: ServerConnection): boolean {
    return !conn.broken;
  }

  /**
   * Passing failures keep clients queued until query_wait_timeout, as PgBouncer does while
   * PostgreSQL restarts: the server unreachable or closing during login, a connect timeout, or a
   * login refused for a reason of the moment (class 57: starting up / shutting down; class 53: too
   * many connections). A wrong password or a missing database fails the client at once.
   */
  retryable(err: unknown): boolean {
    const e = err as { code?: string; details?: { sqlstate?: unknown } };
    if (e.code === 'WEIR_E_SERVER_CONNECT' || e.code === 'WEIR_E_CONNECT_TIMEOUT') return true;
    if (e.code !== 'WEIR_E_SERVER_LOGIN') return false;
    const state = typeof e.details?.sqlstate === 'string' ? e.details.sqlstate : '';
    return state.startsWith('57') || state.startsWith('53');
  }
}
