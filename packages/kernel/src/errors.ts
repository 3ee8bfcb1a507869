/**
 * Coded errors. Every error the kernel raises is a WeirError whose `code` starts
 * with WEIR_E_ and whose `details` name the pool, plugin, hook or key involved.
 */

export const ErrorCodes = {
  ACQUIRE_TIMEOUT: 'WEIR_E_ACQUIRE_TIMEOUT',
  ACQUIRE_ABORTED: 'WEIR_E_ACQUIRE_ABORTED',
  POOL_RETIRED: 'WEIR_E_POOL_RETIRED',
  POOL_CLOSED: 'WEIR_E_POOL_CLOSED',
  POOL_UNKNOWN_DATABASE: 'WEIR_E_POOL_UNKNOWN_DATABASE',
  NO_POOL: 'WEIR_E_NO_POOL',
  CONNECT_FAILED: 'WEIR_E_CONNECT_FAILED',
  CONNECT_TIMEOUT: 'WEIR_E_CONNECT_TIMEOUT',
  HOOK_FAILED: 'WEIR_E_HOOK_FAILED',
  HOOK_UNKNOWN: 'WEIR_E_HOOK_UNKNOWN',
  HOOK_INVALID_HANDLER: 'WEIR_E_HOOK_INVALID_HANDLER',
  HOOK_LATE: 'WEIR_E_HOOK_LATE',
  MESSAGE_HOOK_FAILED: 'WEIR_E_MESSAGE_HOOK_FAILED',
  PLUGIN_UNKNOWN_DEPENDENCY: 'WEIR_E_PLUGIN_UNKNOWN_DEPENDENCY',
  PLUGIN_DEPENDENCY_DISABLED: 'WEIR_E_PLUGIN_DEPENDENCY_DISABLED',
  PLUGIN_CYCLE: 'WEIR_E_PLUGIN_CYCLE',
  PLUGIN_NOT_FOUND: 'WEIR_E_PLUGIN_NOT_FOUND',
  PLUGIN_DISABLED_CONFIG: 'WEIR_E_PLUGIN_DISABLED_CONFIG',
  PLUGIN_DUPLICATE: 'WEIR_E_PLUGIN_DUPLICATE',
  PLUGIN_INVALID: 'WEIR_E_PLUGIN_INVALID',
  PLUGIN_KERNEL_VERSION: 'WEIR_E_PLUGIN_KERNEL_VERSION',
  PLUGIN_SETUP_FAILED: 'WEIR_E_PLUGIN_SETUP_FAILED',
  RELOAD_REJECTED: 'WEIR_E_RELOAD_REJECTED',
  RELOAD_BUILD_FAILED: 'WEIR_E_RELOAD_BUILD_FAILED',
  RELOAD_COMMIT_FAILED: 'WEIR_E_RELOAD_COMMIT_FAILED',
  POOL_RETIRE_FAILED: 'WEIR_E_POOL_RETIRE_FAILED',
  REPORT_DUPLICATE: 'WEIR_E_REPORT_DUPLICATE',
  SERVICE_DUPLICATE: 'WEIR_E_SERVICE_DUPLICATE',
  NO_POOL_FACTORY: 'WEIR_E_NO_POOL_FACTORY',
  CONFIG_INVALID: 'WEIR_E_CONFIG_INVALID',
  CONFIG_READ: 'WEIR_E_CONFIG_READ',
  CONFIG_TLS: 'WEIR_E_CONFIG_TLS',
  ALREADY_STARTED: 'WEIR_E_ALREADY_STARTED',
  NOT_STARTED: 'WEIR_E_NOT_STARTED',
  CLI_ARGS: 'WEIR_E_CLI_ARGS',
  LISTEN: 'WEIR_E_LISTEN',
  LISTEN_REUSEPORT: 'WEIR_E_LISTEN_REUSEPORT',
  LINK_LOG: 'WEIR_E_LINK_LOG',
  TLS: 'WEIR_E_TLS',
  SERVER_CONNECT: 'WEIR_E_SERVER_CONNECT',
  SERVER_TLS: 'WEIR_E_SERVER_TLS',
  SERVER_AUTH: 'WEIR_E_SERVER_AUTH',
  SERVER_LOGIN: 'WEIR_E_SERVER_LOGIN',
  SERVER_LOST: 'WEIR_E_SERVER_LOST',
  AUTH_FAILED: 'WEIR_E_AUTH_FAILED',
  AUTH_UNSUPPORTED: 'WEIR_E_AUTH_UNSUPPORTED',
  PROTO_BAD_LENGTH: 'WEIR_E_PROTO_BAD_LENGTH',
  PROTO_MALFORMED: 'WEIR_E_PROTO_MALFORMED',
  PROTO_TOO_LARGE: 'WEIR_E_PROTO_TOO_LARGE',
  PROTO_UNSUPPORTED_VERSION: 'WEIR_E_PROTO_UNSUPPORTED_VERSION',
  AUTH_QUERY_FAILED: 'WEIR_E_AUTH_QUERY_FAILED',
  DYNAMIC_POOL_LIMIT: 'WEIR_E_DYNAMIC_POOL_LIMIT',
  PS_CLIENT_LIMIT: 'WEIR_E_PS_CLIENT_LIMIT',
  TESTKIT_NO_POSTGRES: 'WEIR_E_TESTKIT_NO_POSTGRES',
  TESTKIT_NO_PG_USER: 'WEIR_E_TESTKIT_NO_PG_USER',
  TESTKIT_COMMAND_FAILED: 'WEIR_E_TESTKIT_COMMAND_FAILED',
  TESTKIT_CLUSTER_START: 'WEIR_E_TESTKIT_CLUSTER_START',
  TESTKIT_CLUSTER_STOPPED: 'WEIR_E_TESTKIT_CLUSTER_STOPPED',
  TESTKIT_WEIR_NOT_FOUND: 'WEIR_E_TESTKIT_WEIR_NOT_FOUND',
  TESTKIT_WEIR_START: 'WEIR_E_TESTKIT_WEIR_START',
  TESTKIT_WEIR_STOPPED: 'WEIR_E_TESTKIT_WEIR_STOPPED',
  TESTKIT_LOG_TIMEOUT: 'WEIR_E_TESTKIT_LOG_TIMEOUT',
  TESTKIT_SANITIZER: 'WEIR_E_TESTKIT_SANITIZER',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * The error catalog: one line per code, for every `WEIR_E_*` code raised anywhere in weir
 * (packages/ and plugins/; @weir/protocol and @weir/testkit, which do not depend on the kernel,
 * raise theirs as literals, listed here all the same). errors.test.ts fails on a literal missing here.
 */
export const ERROR_CATALOG: { readonly [C in ErrorCode]: string } = {
  WEIR_E_ACQUIRE_TIMEOUT: 'no connection became free (or could be opened) within the pool\'s acquire timeout',
  WEIR_E_ACQUIRE_ABORTED: 'the caller aborted its acquire (AbortSignal) before a connection was handed over',
  WEIR_E_POOL_RETIRED: 'the pool was retired (reload, idle GC) while an acquire was waiting on it',
  WEIR_E_POOL_CLOSED: 'the pool is closed: no more acquires',
  WEIR_E_POOL_UNKNOWN_DATABASE: 'a pool was asked for a database with no pools.<db> section (and no server to go to)',
  WEIR_E_NO_POOL: 'no pool exists for (database, user) and no resolvePool handler made one',
  WEIR_E_CONNECT_FAILED: 'the connector could not open a connection for the pool',
  WEIR_E_CONNECT_TIMEOUT: 'opening a connection took longer than its connect timeout',
  WEIR_E_HOOK_FAILED: 'a hook handler threw; details name the plugin and the hook, cause is its error',
  WEIR_E_HOOK_UNKNOWN: 'a handler was registered for a hook that does not exist, or through the wrong method',
  WEIR_E_HOOK_INVALID_HANDLER: 'a handler is not a function, or its order is not \'pre\' or \'post\'',
  WEIR_E_HOOK_LATE: 'a handler was registered after kernel.start() outside hooks.late(), or a plugin called the hosts\' late()/seal()',
  WEIR_E_MESSAGE_HOOK_FAILED: 'a proxy message hook threw; the session ends, the client is told details.sqlstate',
  WEIR_E_PLUGIN_UNKNOWN_DEPENDENCY: 'a plugin dependsOn a configKey no installed plugin has',
  WEIR_E_PLUGIN_DEPENDENCY_DISABLED: 'a plugin dependsOn a plugin the config does not enable',
  WEIR_E_PLUGIN_CYCLE: 'plugins depend on each other in a cycle',
  WEIR_E_PLUGIN_NOT_FOUND: 'the config enables a plugin that is not installed (or its package cannot be loaded)',
  WEIR_E_PLUGIN_DISABLED_CONFIG: 'the config has settings for a plugin it does not enable',
  WEIR_E_PLUGIN_DUPLICATE: 'two plugins share a name or a configKey',
  WEIR_E_PLUGIN_INVALID: 'a plugin package exports no class with a static plugin descriptor',
  WEIR_E_PLUGIN_KERNEL_VERSION: 'a plugin declares a kernel range this @weir/kernel does not satisfy',
  WEIR_E_PLUGIN_SETUP_FAILED: 'a plugin could not be constructed or its setup() threw; start is undone',
  WEIR_E_RELOAD_REJECTED: 'a reload handler (a plugin\'s verdict on its new section, or the host\'s) refused the new config; nothing changed; names the plugin, key path and line',
  WEIR_E_RELOAD_BUILD_FAILED: 'a pool the new config needs could not be built; nothing changed; names the pool',
  WEIR_E_RELOAD_COMMIT_FAILED: 'a reload commit step threw after the swap (a plugin bug): logged, the new config stays',
  WEIR_E_POOL_RETIRE_FAILED: 'retiring a pool (reload, GC) failed while closing its connections: logged with the pool and reason',
  WEIR_E_REPORT_DUPLICATE: 'a report name is already registered by another owner',
  WEIR_E_SERVICE_DUPLICATE: 'a plugin provides a service under a token the kernel, the host or another plugin already provides',
  WEIR_E_NO_POOL_FACTORY: 'a plugin asked for a pool before the host set the kernel\'s pool factory',
  WEIR_E_CONFIG_INVALID: 'the config does not validate; the message names file:line and the key path',
  WEIR_E_CONFIG_READ: 'the config file cannot be read',
  WEIR_E_CONFIG_TLS: 'a TLS file named in the config (certificate, key, CA) cannot be read',
  WEIR_E_ALREADY_STARTED: 'kernel.start() was called on a kernel that is starting, started or stopped',
  WEIR_E_NOT_STARTED: 'an operation needs a started kernel',
  WEIR_E_CLI_ARGS: 'the weir CLI got an argument it does not know',
  WEIR_E_LISTEN: 'the proxy cannot listen on its host:port (or unix socket)',
  WEIR_E_LISTEN_REUSEPORT: 'general.so_reuseport is on, and neither the @weir/io addon nor this Node (>= 22.12) can set SO_REUSEPORT on the node:net listener',
  WEIR_E_LINK_LOG: 'a watched native link forwarded more answers than its log holds (a bug): the session ends, its server is dropped',
  WEIR_E_TLS: 'the proxy cannot load its TLS certificate, key or CA',
  WEIR_E_SERVER_CONNECT: 'the proxy cannot reach a PostgreSQL server',
  WEIR_E_SERVER_TLS: 'TLS to a PostgreSQL server failed or was refused under server_tls_sslmode',
  WEIR_E_SERVER_AUTH: 'a PostgreSQL server asked for an authentication weir cannot answer',
  WEIR_E_SERVER_LOGIN: 'a PostgreSQL server refused the login; details.sqlstate is its SQLSTATE',
  WEIR_E_SERVER_LOST: 'a server connection closed under the proxy (idle or in use)',
  WEIR_E_AUTH_FAILED: 'SCRAM/MD5 authentication failed (wrong proof, or a server that could not prove itself)',
  WEIR_E_AUTH_UNSUPPORTED: 'an authentication feature weir does not support (channel binding, authzid, non-SCRAM secret)',
  WEIR_E_PROTO_BAD_LENGTH: 'a wire message has an impossible length',
  WEIR_E_PROTO_MALFORMED: 'a wire message (or SCRAM message) cannot be decoded',
  WEIR_E_PROTO_TOO_LARGE: 'a wire message is larger than the configured limit',
  WEIR_E_PROTO_UNSUPPORTED_VERSION: 'a client asked for a protocol version other than 3',
  WEIR_E_AUTH_QUERY_FAILED: 'auth_query: the credential lookup failed (client gets its SQLSTATE)',
  WEIR_E_DYNAMIC_POOL_LIMIT: 'dynamic_pools: max_pools reached, no pool made (client gets its SQLSTATE)',
  WEIR_E_PS_CLIENT_LIMIT: 'prepared_statements: a client\'s statements would exceed max_client_statement_bytes',
  WEIR_E_TESTKIT_NO_POSTGRES: 'testkit: no PostgreSQL binaries found (the message lists where it looked)',
  WEIR_E_TESTKIT_NO_PG_USER: 'testkit: running as root and no unprivileged user to run PostgreSQL as',
  WEIR_E_TESTKIT_COMMAND_FAILED: 'testkit: a PostgreSQL command (initdb, pg_ctl) failed',
  WEIR_E_TESTKIT_CLUSTER_START: 'testkit: a throwaway cluster did not start (or restart)',
  WEIR_E_TESTKIT_CLUSTER_STOPPED: 'testkit: the cluster was used after it was stopped',
  WEIR_E_TESTKIT_WEIR_NOT_FOUND: 'testkit: the built weir CLI is missing (run npm run build)',
  WEIR_E_TESTKIT_WEIR_START: 'testkit: a weir instance did not start listening',
  WEIR_E_TESTKIT_WEIR_STOPPED: 'testkit: the weir instance exited before a log line matched',
  WEIR_E_TESTKIT_LOG_TIMEOUT: 'testkit: no log line matched within the timeout',
  WEIR_E_TESTKIT_SANITIZER: 'testkit: the sanitizer build of the native addon reported an error (or is unavailable)',
};

/** Code families tested by prefix (`code.startsWith(...)`), with what they share. */
export const ERROR_FAMILIES: Readonly<Record<string, string>> = {
  WEIR_E_PROTO: 'the peer sent bytes that are not valid protocol (client-facing SQLSTATE 08P01)',
  WEIR_E_TESTKIT: 'raised by @weir/testkit, never by weir itself',
};

export class WeirError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeirError';
    this.code = code;
    this.details = details ?? {};
  }
}

/** True when `err` is a WeirError (optionally with the given code). Works across package copies. */
export function isWeirError(err: unknown, code?: string): err is WeirError {
  if (err === null || typeof err !== 'object') return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('WEIR_E_')) return false;
  return code === undefined || c === code;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * An error a client should see as it is: a SQLSTATE and a message (the proxy sends them in an
 * ErrorResponse, @weir/pg throws it). Raise it from any hook or resolver; the host finds it under
 * the WEIR_E_HOOK_FAILED wrapper with `clientErrorOf`. `details.sqlstate` carries the same value for
 * readers that predate the type.
 */
export class ClientError extends WeirError {
  readonly sqlstate: string;

  constructor(code: string, sqlstate: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, { ...details, sqlstate }, options);
    this.name = 'ClientError';
    this.sqlstate = sqlstate;
  }
}

/** True for a ClientError (also one from another copy of the kernel: a WEIR_E_ code and a string `sqlstate`). */
export function isClientError(err: unknown): err is ClientError {
  return isWeirError(err) && typeof (err as { sqlstate?: unknown }).sqlstate === 'string';
}

/** The ClientError in `err` or, when `err` is a hook's WEIR_E_HOOK_FAILED wrapper, in its cause. */
export function clientErrorOf(err: unknown): ClientError | undefined {
  if (isClientError(err)) return err;
  if (isWeirError(err, ErrorCodes.HOOK_FAILED)) {
    const cause = (err as { cause?: unknown }).cause;
    if (isClientError(cause)) return cause;
  }
  return undefined;
}
