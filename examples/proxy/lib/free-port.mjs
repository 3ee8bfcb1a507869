import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 a moment ago (`port` if given and free, else any). */
export function freePort(port = 0) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const picked = server.address().port;
      server.close(() => resolve(picked));
    });
  });
}
