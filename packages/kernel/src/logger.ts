import { pino } from 'pino';

export type Logger = import('pino').Logger;

export interface LoggerOptions {
  level?: string;
  destination?: NodeJS.WritableStream;
  name?: string;
}

/** A pino logger writing JSON lines (to stdout unless `destination` is given). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    ...(opts.name === undefined ? {} : { name: opts.name }),
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const dest = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(options, dest as pino.DestinationStream);
}

let silent: Logger | undefined;

/** A logger that writes nothing (shared instance). */
export function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' });
  return silent;
}
