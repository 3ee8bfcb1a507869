/** Helpers shared by the kernel's own tests (not exported from the package). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from './logger.js';
import type { PooledConnection } from './types.js';

/** A logger whose JSON lines are collected in `lines`. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, lines };
}

/** A stand-in pooled connection for hook tests. */
export function fakePooled(id = 1): PooledConnection<{ id: number }> {
  return {
    id,
    connection: { id },
    pool: { name: 'app@db', key: { database: 'db', user: 'app' }, kind: 'static' },
    createdAt: 0,
    destroyOnRelease: false,
    state: undefined,
  };
}
