import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { WeirError, configFingerprint } from '@weir/kernel';
import type { ServerAddress } from './connection.js';
import type { ProxyGeneralConfig } from '../config/general.js';

export type ServerTlsMode = ProxyGeneralConfig['server_tls_sslmode'];

/** How one pool's server connections use TLS (general.server_tls_*, overridden per pool). */
export interface ServerTls {
  readonly mode: ServerTlsMode;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  /** What the settings were, for fingerprints (files by name, not content). */
  readonly describe: string;
}

type TlsKeys = Pick<ProxyGeneralConfig, 'server_tls_ca_file' | 'server_tls_cert_file' | 'server_tls_key_file'> &
  { server_tls_sslmode?: ServerTlsMode; server_tls_protocols?: string };

const VERSIONS: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** server_tls_protocols → the TLS version range. */
export function protocolRange(spec: string): { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } {
  const s = spec.trim().toLowerCase();
  if (s === 'secure') return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
  if (s === 'all' || s === 'legacy') return { minVersion: 'TLSv1', maxVersion: 'TLSv1.3' };
  const picked = s.split(',').map((p) => VERSIONS.findIndex((v) => v.toLowerCase() === p.trim())).filter((i) => i >= 0);
  return { minVersion: VERSIONS[Math.min(...picked)]!, maxVersion: VERSIONS[Math.max(...picked)]! };
}

function readPem(file: string | undefined, key: string, where: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new WeirError('WEIR_E_CONFIG_TLS', `${where}.${key}: cannot read ${file}: ${(e as Error).message}`, { path: `${where}.${key}`, file });
  }
}

/** The TLS settings of a pool: its own server_tls_* keys over general's. Reads the files now. */
export function serverTlsFor(general: ProxyGeneralConfig, pool: TlsKeys | undefined, database: string): ServerTls {
  const pick = <K extends keyof TlsKeys>(k: K): { value: TlsKeys[K]; where: string } =>
    pool?.[k] !== undefined ? { value: pool[k], where: `pools.${database}` } : { value: (general as TlsKeys)[k], where: 'general' };
  const mode = pick('server_tls_sslmode').value ?? 'prefer';
  const files = (['server_tls_ca_file', 'server_tls_cert_file', 'server_tls_key_file'] as const).map((k) => ({ k, ...pick(k) }));
  const [ca, cert, key] = files.map((f) => readPem(f.value as string | undefined, f.k, f.where));
  if ((cert === undefined) !== (key === undefined)) {
    throw new WeirError('WEIR_E_CONFIG_TLS', `server_tls_cert_file and server_tls_key_file go together for pools.${database} (a client certificate needs its key)`, { database });
  }
  const protocols = pick('server_tls_protocols').value ?? 'secure';
  return { mode, ca, cert, key, ...protocolRange(protocols), describe: configFingerprint([mode, ...files.map((f) => f.value ?? ''), protocols]) };
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * Ask the server for TLS on a fresh socket (SSLRequest) and, if it agrees, run the handshake
 * with the pool's settings. Resolves with the TLS socket, or null when the server declined and
 * the mode allows plaintext (prefer). `setPre` routes the socket's first bytes here.
 */
export function negotiateServerTls(
  socket: net.Socket, opts: ServerTls, address: ServerAddress, signal: AbortSignal,
  setPre: (fn: ((chunk: Buffer) => void) | null) => void,
): Promise<tls.TLSSocket | null> {
  const where = `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    let secure: tls.TLSSocket | null = null;
    const cleanup = () => {
      setPre(null);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (err: WeirError) => {
      cleanup();
      secure?.destroy();
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(new WeirError('WEIR_E_CONNECT_TIMEOUT', `connecting to server ${where} as "${address.user}" timed out (TLS negotiation)`, { ...address }));
    const onError = (e: Error) => fail(new WeirError('WEIR_E_SERVER_CONNECT', `cannot reach server ${where}: ${e.message}`, { ...address }, { cause: e }));
    const onClose = () => fail(new WeirError('WEIR_E_SERVER_CONNECT', `server ${where} closed the connection during TLS negotiation`, { ...address }));
    const tlsError = (why: string) => new WeirError('WEIR_E_SERVER_TLS', `TLS to server ${where} (server_tls_sslmode ${opts.mode}): ${why}`, { ...address, mode: opts.mode });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    socket.on('close', onClose);
    setPre((chunk) => {
      setPre(null);
      if (chunk.length !== 1 || (chunk[0] !== 0x53 && chunk[0] !== 0x4e)) return fail(tlsError('the server did not answer the SSLRequest as PostgreSQL does'));
      if (chunk[0] === 0x4e) {
        if (opts.mode !== 'prefer') return fail(tlsError('the server does not accept TLS connections'));
        cleanup();
        return resolve(null);
      }
      const verify = opts.mode === 'verify-ca' || opts.mode === 'verify-full';
      secure = tls.connect({
        socket,
        servername: net.isIP(address.host) ? undefined : address.host,
        ca: opts.ca, cert: opts.cert, key: opts.key,
        minVersion: opts.minVersion, maxVersion: opts.maxVersion,
        rejectUnauthorized: verify,
        checkServerIdentity: opts.mode === 'verify-full' ? (_host, cert) => tls.checkServerIdentity(address.host, cert) : () => undefined,
      });
      secure.once('error', (e: Error) => fail(tlsError(e.message)));
      secure.once('secureConnect', () => {
        const s = secure!;
        s.removeAllListeners('error');
        cleanup();
        resolve(s);
      });
    });
    socket.write(SSL_REQUEST);
  });
}
