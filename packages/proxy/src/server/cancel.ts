import net from 'node:net';
import { cancelRequest } from '@weir/protocol';

/** Send a CancelRequest to a server on a new connection; errors are ignored (cancel is best effort). */
export function sendCancel(host: string, port: number, pid: number, secret: number): void {
  if (pid === 0) return;
  const s = net.connect({ host, port });
  s.setTimeout(5000, () => s.destroy());
  s.on('error', () => s.destroy());
  s.on('connect', () => s.end(cancelRequest(pid, secret)));
}
