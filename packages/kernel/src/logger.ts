import { pino } from 'pino';
import { prettyStream } from './log-pretty.js';
import { serializeError } from './log-error.js';

export type Logger = import('pino').Logger;

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  /** json (default): one JSON object per line; pretty: one readable line per event, for people. */
  format?: LogFormat;
  destination?: NodeJS.WritableStream;
  name?: string;
}

/**
 * A pino logger (to stdout unless `destination` is given). Levels are written by name
 * ("level":"info"), errors without a stack unless they are unexpected ones (see log-error.ts)
 * or the level is debug or trace.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const withStacks = level === 'debug' || level === 'trace';
  const options: pino.LoggerOptions = {
    level,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: (e: unknown) => serializeError(e, withStacks) },
  };
  if (opts.format === 'pretty') return pino(options, prettyStream(opts.destination ?? process.stdout));
  const dest = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(options, dest as pino.DestinationStream);
}

let silent: Logger | undefined;

/** A logger that writes nothing (shared instance). */
export function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' });
  return silent;
}
