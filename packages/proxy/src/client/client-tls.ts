import type net from 'node:net';
import tls from 'node:tls';

/**
 * TLS for client connections, by a tls.Server that never listens: each socket that asked for TLS
 * is handed to it, and it runs the handshake and — unlike a hand-made TLSSocket — checks the
 * client certificate when one is requested (`authorized`, `authorizationError`), so
 * client_tls_sslmode verify-* can refuse with an error PostgreSQL would send.
 */
export class ClientTls {
  private readonly server: tls.Server;
  private readonly pending = new Map<string, { resolve: (s: tls.TLSSocket) => void; reject: (e: Error) => void }>();

  constructor(options: tls.TlsOptions) {
    this.server = tls.createServer({ ...options, rejectUnauthorized: false });
    this.server.on('secureConnection', (s: tls.TLSSocket) => this.settle(s, null));
    this.server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => this.settle(s, e));
  }

  /** The TLS socket over `raw` once the handshake is done; rejects if it fails or `raw` closes first. */
  upgrade(raw: net.Socket): Promise<tls.TLSSocket> {
    const key = `${raw.remoteAddress}:${raw.remotePort}`;
    return new Promise((resolve, reject) => {
      const onClose = () => this.settle(null, new Error('client closed the connection during the TLS handshake'), key);
      raw.once('close', onClose);
      this.pending.set(key, {
        resolve: (s) => { raw.off('close', onClose); resolve(s); },
        reject: (e) => { raw.off('close', onClose); reject(e); },
      });
      this.server.emit('connection', raw);
    });
  }

  private settle(s: tls.TLSSocket | null, err: Error | null, key = `${s?.remoteAddress}:${s?.remotePort}`): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    this.pending.delete(key);
    if (err !== null) {
      s?.destroy();
      p.reject(err);
    } else {
      p.resolve(s!);
    }
  }
}
