// The CLI's end of `agora exec`: an HTTP/1.1 Upgrade to the master (core/exec-protocol.ts frames
// the stream), local stdin in, remote stdout and stderr out, the terminal's size on SIGWINCH.
// With a terminal (-t) on an interactive stdin, the local tty is put in raw mode — keys, Ctrl-C
// included, go to the remote terminal — and restored however the session ends (exit, error,
// the connection dropping). Without one, Ctrl-C ends the session (the agent kills the command).
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Response } from 'undici';
import { AgoraError, isErrorCode } from '../core/errors.js';
import { EXEC_PROTOCOL, encodeFrame, execQueryString, FRAME, FrameReader, parseError, parseExit, type ExecQuery, type TerminalSize } from '../core/exec-protocol.js';
import { errorFromResponse } from '../frameworks/api/http-client.js';
import type { AgoraClient } from './client.js';

export interface ExecIo {
  readonly stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream & { columns?: number; rows?: number; isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

export interface ExecTarget {
  readonly taskId: string;
  readonly frameworkId?: string | undefined;
}

/** Run the command; resolves to its exit status. */
export async function execInTask(client: AgoraClient, target: ExecTarget, query: ExecQuery, io: ExecIo): Promise<number> {
  const params = new URLSearchParams(target.frameworkId ? { frameworkId: target.frameworkId } : {});
  const url = `${client.masterUrl}/api/v1/tasks/${encodeURIComponent(target.taskId)}/exec?${params.toString()}${params.size ? '&' : ''}${execQueryString(query)}`;
  let socket: Duplex;
  try {
    socket = await upgrade(client, url);
  } catch (err) {
    throw client.explain(err, url);
  }
  return session(socket, query, io);
}

const REDIRECTS = new Set([301, 302, 307, 308]);
const MAX_REDIRECTS = 5;

/** The upgraded socket; a standby master's redirect to its leader is followed (the token only over TLS). */
async function upgrade(client: AgoraClient, url: string): Promise<Duplex> {
  let target = url;
  for (let hops = 0; ; hops += 1) {
    const answer = await upgradeOnce(client, target);
    if (!('location' in answer)) return answer.socket;
    if (hops >= MAX_REDIRECTS) throw new AgoraError('AGORA_UNAVAILABLE', `${new URL(url).host}: too many redirects`);
    target = new URL(answer.location, target).toString();
  }
}

function upgradeOnce(client: AgoraClient, url: string): Promise<{ socket: Duplex } | { location: string }> {
  const secure = url.startsWith('https:');
  const { token, ca } = client.connection;
  const headers: Record<string, string> = { connection: 'Upgrade', upgrade: EXEC_PROTOCOL };
  if (secure && token && !client.connection.insecure) headers['authorization'] = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, { method: 'GET', headers, ...(secure && ca ? { ca } : {}) });
    req.once('error', (err) => reject(new AgoraError('AGORA_UNAVAILABLE', `${new URL(url).host} cannot be reached: ${err.message}`)));
    req.once('response', (res) => {
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode ?? 0) && typeof location === 'string') {
        res.resume();
        resolve({ location });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.entries(res.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []));
        void errorFromResponse(new Response(body, { status: res.statusCode ?? 500, headers })).then(reject, reject);
      });
    });
    req.once('upgrade', (_res, socket: Duplex, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      resolve({ socket });
    });
    req.end();
  });
}

function session(socket: Duplex, query: ExecQuery, io: ExecIo): Promise<number> {
  const stdin = io.stdin as NodeJS.ReadStream;
  const raw = query.tty && query.stdin && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload?: Buffer | object): void => {
    if (!socket.destroyed) socket.write(encodeFrame(type, payload));
  };
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const onInput = (chunk: Buffer | string): void => send(FRAME.STDIN, Buffer.from(chunk));
    const onInputEnd = (): void => send(FRAME.STDIN_EOF);
    const onResize = (): void => {
      const size = sizeOf(io.stdout);
      if (size) send(FRAME.RESIZE, size);
    };
    const onInterrupt = (): void => finish(new AgoraError('AGORA_CANCELLED', 'interrupted: the remote command is killed'));
    // However the process goes, the terminal is given back as it was.
    const restore = (): void => {
      if (raw) stdin.setRawMode(false);
    };
    const finish = (outcome: number | Error): void => {
      if (done) return;
      done = true;
      restore();
      process.off('exit', restore);
      io.stdin.off('data', onInput);
      io.stdin.off('end', onInputEnd);
      if (query.stdin) io.stdin.pause();
      process.off('SIGWINCH', onResize);
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
      process.off('SIGHUP', onInterrupt);
      socket.end();
      socket.destroy();
      if (typeof outcome === 'number') resolve(outcome);
      else reject(outcome);
    };
    if (raw) {
      stdin.setRawMode(true);
      process.once('exit', restore);
    }
    if (query.stdin) {
      io.stdin.on('data', onInput);
      io.stdin.once('end', onInputEnd);
      io.stdin.resume();
    }
    if (query.tty) process.on('SIGWINCH', onResize);
    if (!raw) process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onInterrupt);
    process.on('SIGHUP', onInterrupt);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        finish(new AgoraError('AGORA_INTERNAL', (err as Error).message));
        return;
      }
      for (const frame of frames) {
        if (frame.type === FRAME.STDOUT) io.stdout.write(frame.payload);
        else if (frame.type === FRAME.STDERR) io.stderr.write(frame.payload);
        else if (frame.type === FRAME.EXIT || frame.type === FRAME.ERROR) {
          const exit = frame.type === FRAME.EXIT ? parseExit(frame.payload) : undefined;
          const error = frame.type === FRAME.ERROR ? parseError(frame.payload) : undefined;
          if (exit) finish(exit.exitCode);
          else if (error) finish(new AgoraError(isErrorCode(error.code) ? error.code : 'AGORA_INTERNAL', error.message));
          else finish(new AgoraError('AGORA_INTERNAL', `exec stream: a malformed ${frame.type === FRAME.EXIT ? 'EXIT' : 'ERROR'} frame`));
        }
      }
    });
    socket.once('error', (err) => finish(new AgoraError('AGORA_UNAVAILABLE', `the exec connection failed: ${err.message}`)));
    socket.once('close', () => finish(new AgoraError('AGORA_UNAVAILABLE', 'the exec connection closed before the command ended')));
  });
}

/** The local terminal's size, when stdout is one. */
export function sizeOf(stdout: ExecIo['stdout']): TerminalSize | undefined {
  return stdout.isTTY && stdout.rows && stdout.columns ? { rows: stdout.rows, cols: stdout.columns } : undefined;
}
