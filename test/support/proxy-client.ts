// Clients of a service port for the proxy's tests: one HTTP GET on a fresh connection (so every
// request is a new connection the proxy places), and a raw TCP exchange.
import http from 'node:http';
import net from 'node:net';

/** GET http://127.0.0.1:<port><path> on a new connection; the body, or a rejection. */
export function getOnce(port: number, path = '/', timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET :${port}${path} timed out`)));
    req.on('error', reject);
  });
}

/** Does anything accept a TCP connection on 127.0.0.1:<port>? */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Count how often each body came back over `n` sequential requests. */
export async function tally(port: number, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const { body } = await getOnce(port);
    counts.set(body, (counts.get(body) ?? 0) + 1);
  }
  return counts;
}
