import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { WeirError } from '@weir/kernel';
import { ClientTls } from './client/client-tls.js';
import type { ProxyGeneralConfig } from './config/general.js';

/** Build TLS for clients when a certificate and key are configured (and client_tls_sslmode offers it). */
export function loadTls(general: ProxyGeneralConfig): ClientTls | null {
  if (!general.tls_certificate || !general.tls_private_key || general.client_tls_sslmode === 'disable') return null;
  const mode = general.client_tls_sslmode;
  try {
    return new ClientTls({
      cert: fs.readFileSync(general.tls_certificate),
      key: fs.readFileSync(general.tls_private_key),
      ca: general.client_tls_ca_file ? fs.readFileSync(general.client_tls_ca_file) : undefined,
      requestCert: mode === 'verify-ca' || mode === 'verify-full',
    });
  } catch (e) {
    throw new WeirError('WEIR_E_TLS', `cannot load TLS certificate/key/CA (general.tls_certificate, general.tls_private_key, general.client_tls_ca_file): ${(e as Error).message}`);
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
