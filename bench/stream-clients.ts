/**
 * Holds many idle SSE streams for the streams benchmark (forked, driven over IPC). Connections
 * come from several loopback source addresses so the client side does not run out of ports.
 *   parent → { urls: string[], addresses: string[] }   child → { opened, failed, seconds }
 *   parent → 'report'                                   child → { open, pings }
 *   parent → 'close'
 */
import http from 'node:http';
import type { Socket } from 'node:net';

const sockets = new Set<Socket>();
let pings = 0;

function open(url: string, localAddress: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { localAddress, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(false);
      }
      let first = true;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (chunk.includes(': ping')) pings++;
        if (first && chunk.includes('event: status')) {
          first = false;
          sockets.add(res.socket);
          resolve(true);
        }
      });
      res.on('error', () => undefined);
      res.on('close', () => sockets.delete(res.socket));
    });
    req.on('error', () => resolve(false));
    req.setTimeout(60_000, () => req.destroy());
  });
}

process.on('message', async (message: unknown) => {
  if (message === 'report') return process.send!({ open: sockets.size, pings });
  if (message === 'close') {
    for (const socket of sockets) socket.destroy();
    return process.exit(0);
  }
  const { urls, addresses } = message as { urls: string[]; addresses: string[] };
  const started = performance.now();
  let opened = 0;
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < urls.length) {
      const i = next++;
      if (await open(urls[i]!, addresses[i % addresses.length]!)) opened++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: 200 }, lane));
  process.send!({ opened, failed, seconds: (performance.now() - started) / 1000 });
});
