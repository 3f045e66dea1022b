import * as net from 'node:net';

/**
 * A TCP port that was free a moment ago on `host` (the kernel picks it). There is a small race
 * between closing the probe socket and the caller binding it; servers that fail to bind are
 * expected to be retried by their starter.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}
