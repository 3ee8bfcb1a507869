/** An error as a log field: what happened, not how the code got there — unless that matters. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string;
  [key: string]: unknown;
}

/**
 * Routine errors — ours (a WEIR_E_ code), the system's (ECONNRESET, EPIPE…), PostgreSQL's (a
 * SQLSTATE) — are events with a code that says it all: no stack. An error without a code is a
 * bug somewhere, and its stack is what a report needs. A cause is kept as its own short entry,
 * never folded into the message (a message that already names its cause would say it twice).
 */
export function serializeError(e: unknown, withStack: boolean, depth = 0): LoggedError | unknown {
  if (!(e instanceof Error)) return e;
  const x = e as Error & { code?: unknown; sqlstate?: unknown; details?: Record<string, unknown>; cause?: unknown };
  const out: LoggedError = { type: x.name, message: x.message };
  const code = typeof x.code === 'string' ? x.code : undefined;
  if (code !== undefined) out.code = code;
  if (typeof x.sqlstate === 'string') out.sqlstate = x.sqlstate;
  if (x.details !== undefined && typeof x.details === 'object') {
    for (const [k, v] of Object.entries(x.details)) if (!(k in out) && (typeof v !== 'object' || v === null)) out[k] = v;
  }
  if (withStack || (code === undefined && out.sqlstate === undefined)) out.stack = x.stack;
  if (x.cause !== undefined && depth < 3) out.cause = serializeError(x.cause, withStack, depth + 1);
  return out;
}
