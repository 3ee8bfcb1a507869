import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import path from 'node:path';
import type { GeneralConfig } from '@weir/kernel';
import { WeirError } from '@weir/kernel';

/** Build the TLS context for clients when a certificate and key are configured. */
export function loadTls(general: GeneralConfig): tls.SecureContext | null {
  if (!general.tls_certificate || !general.tls_private_key) return null;
  try {
    return tls.createSecureContext({ cert: fs.readFileSync(general.tls_certificate), key: fs.readFileSync(general.tls_private_key) });
  } catch (e) {
    throw new WeirError('WEIR_E_TLS', `cannot load TLS certificate/key (general.tls_certificate, general.tls_private_key): ${(e as Error).message}`);
  }
}

export function listen(server: net.Server, host: string, port: number): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new WeirError('WEIR_E_LISTEN', `cannot listen on ${host}:${port}: ${e.message}`, { host, port }));
    server.once('error', onError);
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

/** Listen on DIR/.s.PGSQL.PORT, as PostgreSQL clients expect (psql -h DIR -p PORT). A stale socket file is replaced. */
export async function listenUnix(server: net.Server, dir: string, port: number): Promise<string> {
  const file = path.join(dir, `.s.PGSQL.${port}`);
  try {
    fs.unlinkSync(file);
  } catch {
    // none there
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(new WeirError('WEIR_E_LISTEN', `cannot listen on unix socket ${file} (general.unix_socket_dir): ${e.message}`, { file }));
    server.once('error', onError);
    server.listen(file, () => {
      server.off('error', onError);
      resolve();
    });
  });
  fs.chmodSync(file, 0o777);
  return file;
}
