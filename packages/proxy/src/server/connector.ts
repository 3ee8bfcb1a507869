import type { Connector, ConnectContext, DropReason } from '@weir/kernel';
import { ServerConnection, type ServerAddress } from './connection.js';
import type { ServerCredentials } from './credentials.js';

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
}

export class ServerConnector implements Connector<ServerConnection> {
  constructor(readonly target: ServerTarget) {}

  async connect(ctx: ConnectContext): Promise<ServerConnection> {
    const conn = await ServerConnection.open(ctx.id, this.target.address, this.target.credentials, ctx.signal);
    conn.reportIdleBroken = ctx.reportError;
    if (this.target.welcome === null) this.target.welcome = new Map(conn.params);
    return conn;
  }

  destroy(conn: ServerConnection, _reason: DropReason): void {
    conn.close();
  }

  validate(conn: ServerConnection): boolean {
    return !conn.broken;
  }
}
