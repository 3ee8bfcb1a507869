import http from 'node:http';
import type { Registry } from 'prom-client';
import { WeirError, type Logger } from '@weir/kernel';

/**
 * `GET /metrics` (Prometheus text format, from the kernel's registry) and `GET /healthz` (200
 * while weir accepts clients, 503 while it drains) on general.metrics_host:metrics_port.
 */
export function startMetricsServer(opts: {
  host: string; port: number; registry: Registry; healthy: () => boolean; logger: Logger;
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (url === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (e: Error) => {
          opts.logger.warn({ err: e }, 'metrics: a collector failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${e.message}\n`);
        },
      );
    } else if (url === '/healthz') {
      const ok = opts.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'draining\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new WeirError('WEIR_E_LISTEN', `cannot listen for metrics on ${opts.host}:${opts.port} (general.metrics_port): ${e.message}`,
      { host: opts.host, port: opts.port })));
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.removeAllListeners('error');
      server.on('error', (e) => opts.logger.error({ err: e }, 'metrics listener error'));
      opts.logger.info({ host: opts.host, port: opts.port }, `metrics on http://${opts.host}:${opts.port}/metrics`);
      resolve(server);
    });
  });
}
