// Server-Sent Events on a hijacked fastify reply: `event: <name>` + JSON data per frame, a comment
// line every heartbeat (proxies keep the connection; clients notice a dead one), and a slow reader
// (more than MAX_BUFFERED bytes queued) is disconnected rather than buffered without bound.
import type { FastifyReply } from 'fastify';
import { systemClock, type Clock } from './clock.js';

const MAX_BUFFERED = 4 * 1024 * 1024;

export interface SseStream {
  send(event: string, data: unknown): void;
  close(): void;
  /** Called once when the stream ends, whoever ended it. */
  onClose(listener: () => void): void;
}

/** One frame: `event: <name>` and the data as JSON. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function openSse(reply: FastifyReply, heartbeatMs: number, clock: Clock = systemClock): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const listeners: (() => void)[] = [];
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clock.clearInterval(heartbeat);
    if (!res.writableEnded) res.end();
    for (const l of listeners.splice(0)) l();
  };
  const write = (chunk: string): void => {
    if (closed) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED) close();
  };
  const heartbeat = clock.setInterval(() => write(`: heartbeat ${clock.now()}\n\n`), heartbeatMs);
  res.on('close', close);
  res.on('error', close);
  return {
    send: (event, data) => write(sseFrame(event, data)),
    close,
    onClose: (listener) => {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
}
