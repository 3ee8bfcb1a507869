import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import dns from 'node:dns/promises';
import { loadNative } from '@weir/io';
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

/** A TCP listener that is up: its address, and how to take what its accept queue holds before it closes. */
export interface Listening {
  address: net.AddressInfo;
  /**
   * Accept, without blocking, the connections the kernel has completed but nobody accepted yet,
   * and stop listening in the same native call, so that none is reset: their fds (null: not
   * possible here). The server is still to be closed.
   */
  drain: (() => number[]) | null;
}

/** Node versions whose server.listen() takes `reusePort` (v22.12, v23.1). */
export function nodeHasReusePort(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * node:net's TCP listener. With `reusePort` (general.so_reuseport) the socket is made and bound
 * by the @weir/io addon with SO_REUSEPORT and handed to node:net as a descriptor (Node 20 has no
 * `reusePort`); without the addon, Node's own option where this Node has it, else WEIR_E_LISTEN_REUSEPORT.
 */
export async function listen(server: net.Server, host: string, port: number, reusePort = false): Promise<Listening> {
  if (!reusePort) return { address: await listenOn(server, host, port, { host, port }), drain: null };
  const loaded = loadNative();
  if (loaded.io === null) {
    if (nodeHasReusePort()) return { address: await listenOn(server, host, port, { host, port, reusePort: true }), drain: null };
    throw new WeirError('WEIR_E_LISTEN_REUSEPORT',
      `general.so_reuseport needs the @weir/io addon on Node ${process.versions.node} (reusePort came in Node 22.12): ${loaded.reason}`,
      { host, port, node: process.versions.node });
  }
  const io = loaded.io;
  const ip = await listenIp(host);
  let fd: number;
  try {
    fd = io.bindSocket(ip, port, true);
  } catch (e) {
    throw new WeirError('WEIR_E_LISTEN', `cannot listen on ${host}:${port}: ${(e as Error).message}`, { host, port });
  }
  const address = await listenOn(server, host, port, { fd });
  return { address, drain: () => io.stopListening(fd) };
}

/** The IP a host names: `*` is every IPv4 interface. */
export async function listenIp(host: string): Promise<string> {
  return host === '*' ? '0.0.0.0' : net.isIP(host) ? host : (await dns.lookup(host)).address;
}

function listenOn(server: net.Server, host: string, port: number, options: (net.ListenOptions & { reusePort?: boolean }) | { fd: number }): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new WeirError('WEIR_E_LISTEN', `cannot listen on ${host}:${port}: ${e.message}`, { host, port }));
    server.once('error', onError);
    server.listen({ ...options, backlog: 4096 } as net.ListenOptions, () => {
      server.off('error', onError);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

/**
 * Listen on DIR/.s.PGSQL.PORT, as PostgreSQL clients expect (psql -h DIR -p PORT). The socket is
 * bound under a name of this process's and renamed over the file: a stale file is replaced, and
 * a weir still running there (a rolling restart, general.so_reuseport) keeps the clients it has
 * while new ones come here, with no moment without a socket file. close() removes the file only
 * if it is still this process's (libuv would unlink the name it bound, whoever's it is by then).
 */
export async function listenUnix(server: net.Server, dir: string, port: number): Promise<{ file: string; close(): void }> {
  const file = path.join(dir, `.s.PGSQL.${port}`);
  const bound = `${file}.${process.pid}`;
  const failed = (e: Error) => new WeirError('WEIR_E_LISTEN', `cannot listen on unix socket ${file} (general.unix_socket_dir): ${e.message}`, { file });
  try {
    fs.unlinkSync(bound);
  } catch {
    // none there
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(failed(e));
    server.once('error', onError);
    server.listen(bound, () => {
      server.off('error', onError);
      resolve();
    });
  });
  let ino: number;
  try {
    fs.chmodSync(bound, 0o777);
    fs.renameSync(bound, file);
    ino = fs.statSync(file).ino;
  } catch (e) {
    server.close();
    throw failed(e as Error);
  }
  return {
    file,
    close: () => {
      server.close();
      try {
        if (fs.statSync(file).ino === ino) fs.unlinkSync(file);
      } catch {
        // gone already
      }
    },
  };
}

/**
 * Linux's net.ipv4.tcp_migrate_req (5.14+): 1 = connections queued or still in their handshake on
 * a SO_REUSEPORT listener that closes go to another listener of the port; null where there is none.
 */
export function tcpMigrateReq(file = '/proc/sys/net/ipv4/tcp_migrate_req'): number | null {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}
