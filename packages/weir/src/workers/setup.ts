import type { Logger } from '@weir/kernel';
import type { ProxyConfig } from '@weir/proxy';
import { WORKER_PORT_ENV } from './messages.js';
import { WorkerLink } from './worker.js';

/**
 * A worker's view of the config: it listens with SO_REUSEPORT on the supervisor's port; only
 * worker 0 binds the unix socket (one process owns a path); the supervisor serves metrics_port.
 */
export function workerSetup(index: number, config: ProxyConfig, logger: Logger): { link: WorkerLink; logger: Logger } {
  const g = config.general as { so_reuseport: boolean; port: number; unix_socket_dir?: string; metrics_port: number };
  g.so_reuseport = true;
  const port = Number(process.env[WORKER_PORT_ENV] ?? 0);
  if (port > 0) g.port = port;
  g.metrics_port = 0;
  if (index !== 0) g.unix_socket_dir = undefined;
  const child = logger.child({ worker: index });
  return { link: new WorkerLink(index, child), logger: child };
}
