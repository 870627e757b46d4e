// One HTTP GET for tests that always settles. `http.get`'s response never emits 'end' when the
// server dies mid-body (a task killed while answering a probe), and, with no 'error' listener on
// the response, it emits nothing else either: a probe written the obvious way waits forever —
// which is how services-deployments once hung for 60 s in CI. Here a response cut off, a socket
// idle past `timeoutMs`, or a whole exchange longer than it, all reject.
import http from 'node:http';

export interface HttpGetTarget {
  readonly host?: string;
  readonly port?: number;
  readonly socketPath?: string;
  readonly path?: string;
  readonly timeoutMs?: number;
}

export function httpGet(target: HttpGetTarget): Promise<{ status: number; body: string }> {
  const timeoutMs = target.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const where = target.socketPath ?? `${target.host ?? '127.0.0.1'}:${target.port}`;
    const fail = (why: string): void => {
      reject(new Error(`GET ${where}${target.path ?? '/'}: ${why}`));
      req.destroy();
    };
    const deadline = setTimeout(() => fail(`no whole answer in ${timeoutMs} ms`), timeoutMs);
    const req = http.get(
      { host: target.socketPath ? undefined : (target.host ?? '127.0.0.1'), port: target.port, socketPath: target.socketPath, path: target.path ?? '/', timeout: timeoutMs },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => fail(err.message));
        res.on('close', () => {
          if (!res.complete) fail('the answer was cut off');
        });
      },
    );
    req.on('error', (err) => fail(err.message));
    req.on('timeout', () => fail(`idle for ${timeoutMs} ms`));
    req.on('close', () => clearTimeout(deadline));
  });
}
