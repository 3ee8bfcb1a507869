/** An admin table as it crosses the IPC channel. */
export interface WireTable { columns: readonly string[]; rows: unknown[][] }

/** Worker → supervisor. */
export type FromWorker =
  | { t: 'ready'; port: number }
  | { t: 'ask'; key: string; limit: number }
  | { t: 'cancel'; pid: number; secret: number }
  | { t: 'limit'; key: string; limit: number }
  | { t: 'release'; key: string; n: number; declined: number }
  | { t: 'show'; id: number; what: string }
  | { t: 'broadcast'; id: number; command: string }
  | { t: 'table-reply'; id: number; table?: WireTable; error?: string }
  | { t: 'metrics-reply'; id: number; json?: object[]; error?: string }
  | { t: 'run-reply'; id: number; error?: string; sqlstate?: string };

/** Supervisor → worker. */
export type ToWorker =
  | { t: 'grant'; key: string; n: number }
  | { t: 'cancel'; pid: number; secret: number }
  | { t: 'reclaim'; key: string; n: number; force: boolean }
  | { t: 'table'; id: number; what: string }
  | { t: 'metrics'; id: number }
  /** `phase` prepare: check the config file can be applied; commit: RELOAD; else an admin command. */
  | { t: 'run'; id: number; command: string; phase?: 'prepare' | 'commit' }
  | { t: 'show-reply'; id: number; table?: WireTable; error?: string }
  | { t: 'broadcast-reply'; id: number; error?: string; sqlstate?: string };

/** The environment marker of a worker process: its index. */
export const WORKER_ENV = 'WEIR_WORKER';
/** The port worker 0 listens on, for the others (general.port 0 picks one). */
export const WORKER_PORT_ENV = 'WEIR_WORKER_PORT';

/** general.workers as a count: 'auto' = available cores. */
export function workerCount(workers: number | 'auto', cores: () => number): number {
  return workers === 'auto' ? Math.max(1, cores()) : workers;
}
