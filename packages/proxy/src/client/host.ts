import type { ClientTls } from './client-tls.js';
import type { AuthSecret, Logger, Pool } from '@weir/kernel';
import type { ServerConnection } from '../server/connection.js';
import type { PoolMode } from '../config/schema.js';
import type { AuthOutcome, MockMethod } from './auth.js';
import type { PoolCounters } from '../stats.js';
import type { ClientSession } from './session.js';
import type { MessageHooks } from '../intercept/hooks.js';
import type { PoolerErrorFields } from './pooler-errors.js';
import type { ProxyGeneralConfig } from '../config/general.js';

/** Where a client's login lands once authenticated. */
export interface LoginTarget {
  readonly database: string;
  readonly user: string;
  /** null: unknown user (answered like a wrong password). */
  readonly secret: AuthSecret | null;
  /** For an unknown user: the exchange the known users of this pool get, so the two look alike. */
  readonly mock?: MockMethod;
  readonly mode: PoolMode;
  /** The pool this login uses, found or made after authentication (passthrough keys in `outcome`). */
  pool(outcome: AuthOutcome): Promise<Pool<ServerConnection>>;
}

/** The timeouts a session checks when the janitor asks ({@link ClientSession.expire}). */
export type SessionTimeouts = Pick<ProxyGeneralConfig, 'query_timeout' | 'idle_transaction_timeout' | 'client_idle_timeout' | 'transaction_timeout'>;

/** What a client session needs from the proxy around it. */
export interface SessionHost {
  readonly logger: Logger;
  /** Milliseconds since the epoch, updated about once a second: for timeouts, read on the data path. */
  readonly coarseNow: number;
  general(): ProxyGeneralConfig;
  /** TLS for clients that ask for it; null: answer SSLRequest with 'N'. */
  clientTls(): ClientTls | null;
  findLogin(database: string, user: string): Promise<LoginTarget | { sqlstate: string; message: string }>;
  adminSecret(user: string): AuthSecret | null;
  /** The exchange an unknown admin console user is taken through (the admin's own). */
  adminMock(): MockMethod;
  runAdmin(session: ClientSession, sql: string): Promise<Buffer>;
  /** Parameters to greet a client of this pool with (from a live server connection). */
  welcome(pool: Pool<ServerConnection>): Promise<ReadonlyMap<string, string>>;
  counters(pool: Pool<ServerConnection>): PoolCounters;
  register(session: ClientSession): void;
  /** The session finished logging in (it no longer counts as a pending login). */
  loggedIn(session: ClientSession): void;
  unregister(session: ClientSession): void;
  /** log_pooler_errors: an error weir sends a client (`repeated`: one a client can cause at will, digested). */
  poolerError(fields: PoolerErrorFields, sqlstate: string, message: string, repeated?: boolean): void;
  /** Log an event a client can repeat at will: info level, at most one line per period with a count. */
  noteRepeated(message: string, fields: Record<string, unknown>): void;
  /** A process id for a new session's cancel key, not held by a live session. */
  drawPid(): number;
  /** A CancelRequest from `address` (an IP, or 'unix'). */
  cancel(pid: number, secret: number, address: string): void;
  /** Resolves when the proxy is not paused (PAUSE / RESUME). */
  whenRunning(database: string): Promise<void> | null;
  /** Shutting down: a client leaves once its transaction is done. */
  readonly shuttingDown: boolean;
  /** Logins in progress are refused (every shutdown but SIGTERM's, which lets them finish). */
  readonly refusingLogins: boolean;
  /** Message hooks registered by proxy plugins. */
  messageHooks(): MessageHooks;
}
