// One probe of a task's health, by kind: HTTP GET, TCP connect, or a command in the sandbox.
// A probe never throws: it resolves healthy or not, with a message for people.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { CommandInfo__Output, HealthCheck__Output, HttpCheck__Output, TcpCheck__Output } from '../../proto/index.js';
import { runAsPrefix, runAsUnavailable } from '../run-as.js';
import type { UserIdentity } from '../user-db.js';

export interface ProbeResult {
  readonly healthy: boolean;
  readonly message: string;
}

/** Runs one check; `signal` aborts it (the check's timeout). */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** What a probe needs to know about its task. */
export interface HealthCheckTarget {
  readonly sandbox: string;
  readonly env: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly number: number; readonly name?: string }[];
  /** Command checks run as the task's user, as the task does. */
  readonly user: UserIdentity;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_OUTPUT = 200;

/** The probe for a check. A check that cannot work (no port, no command) fails every time, saying why. */
export function makeProbe(check: HealthCheck__Output, target: HealthCheckTarget, host: string): Probe {
  const type = checkType(check);
  if (type === 'HTTP' && check.http) return withPort(check.http, target, (port) => httpProbe(check.http as HttpCheck__Output, host, port));
  if (type === 'TCP' && check.tcp) return withPort(check.tcp, target, (port) => tcpProbe(host, port));
  if (type === 'COMMAND' && check.command) return commandProbe(check.command, target);
  return failing(`the health check has no ${type === 'UNSPECIFIED' ? 'type' : `${type.toLowerCase()} settings`}`);
}

/** The declared type, or the one implied by the settings given. */
function checkType(check: HealthCheck__Output): 'HTTP' | 'TCP' | 'COMMAND' | 'UNSPECIFIED' {
  if (check.type !== 'CHECK_TYPE_UNSPECIFIED') return check.type;
  if (check.http) return 'HTTP';
  if (check.tcp) return 'TCP';
  if (check.command) return 'COMMAND';
  return 'UNSPECIFIED';
}

/** `port` if non-zero, else the task port named `port_name`, else the one at `port_index` (0). */
export function resolvePort(spec: HttpCheck__Output | TcpCheck__Output, ports: HealthCheckTarget['ports']): number | string {
  if (spec.port) return spec.port;
  if (spec.portName) return ports.find((p) => p.name === spec.portName)?.number ?? `the task has no port named '${spec.portName}'`;
  const index = spec.portIndex ?? 0;
  return ports[index]?.number ?? `the task has no port at index ${index}`;
}

function withPort(spec: HttpCheck__Output | TcpCheck__Output, target: HealthCheckTarget, make: (port: number) => Probe): Probe {
  const port = resolvePort(spec, target.ports);
  return typeof port === 'string' ? failing(port) : make(port);
}

function failing(message: string): Probe {
  return async () => ({ healthy: false, message });
}

function httpProbe(spec: HttpCheck__Output, host: string, port: number): Probe {
  const scheme = spec.scheme === 'https' ? 'https' : 'http';
  const urlPath = spec.path ? (spec.path.startsWith('/') ? spec.path : `/${spec.path}`) : '/';
  // An IPv6 host (an agent advertising one) goes in brackets, or the URL is not one.
  const url = `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}${urlPath}`;
  const good = (status: number): boolean => (spec.statuses.length > 0 ? spec.statuses.includes(status) : status >= 200 && status < 400);
  return (signal) =>
    new Promise((resolve) => {
      const get = scheme === 'https' ? https.get : http.get;
      // A fresh connection per check (agent: false): a pooled one could hide a dead listener.
      const req = get(url, { agent: false, signal, rejectUnauthorized: false }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ healthy: good(status), message: `HTTP GET ${url} returned ${status}` });
      });
      req.once('error', (err) => resolve({ healthy: false, message: `HTTP GET ${url} failed: ${describe(err, signal)}` }));
    });
}

function tcpProbe(host: string, port: number): Probe {
  return (signal) =>
    new Promise((resolve) => {
      const socket = net.connect({ host, port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ healthy: true, message: `TCP connect to ${host}:${port} succeeded` });
      });
      socket.once('error', (err) => resolve({ healthy: false, message: `TCP connect to ${host}:${port} failed: ${describe(err, signal)}` }));
    });
}

/** The command in the task's sandbox, as its user, with the task's environment; exit 0 = healthy. */
function commandProbe(command: CommandInfo__Output, target: HealthCheckTarget): Probe {
  const runAs = runAsPrefix(target.user);
  const cannotRunAs = runAs.length > 0 ? runAsUnavailable() : undefined;
  if (cannotRunAs) return failing(cannotRunAs);
  const argv = [...runAs, ...(command.shell === false ? [command.value, ...command.arguments.slice(1)] : ['/bin/sh', '-c', command.value])];
  const extra = Object.fromEntries((command.environment?.variables ?? []).map((v) => [v.name, v.value]));
  const env = { PATH: DEFAULT_PATH, ...target.env, ...extra };
  return (signal) =>
    new Promise((resolve) => {
      const [file = '/bin/sh', ...args] = argv;
      // Its own process group, so a timeout kills what the command started too.
      const child = spawn(file, args, { cwd: target.sandbox, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const collect = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-MAX_OUTPUT);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const onAbort = (): void => {
        if (child.pid !== undefined) killGroup(child.pid);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', (err) => resolve({ healthy: false, message: `health check command failed to start: ${err.message}` }));
      child.once('close', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve({ healthy: false, message: timeoutMessage(signal) });
        else if (code === 0) resolve({ healthy: true, message: 'health check command exited with status 0' });
        else resolve({ healthy: false, message: `health check command ${code === null ? `terminated by ${sig}` : `exited with status ${code}`}${output.trim() ? `: ${output.trim()}` : ''}` });
      });
    });
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function describe(err: Error, signal: AbortSignal): string {
  return signal.aborted ? timeoutMessage(signal) : ((err as NodeJS.ErrnoException).code ?? err.message);
}

function timeoutMessage(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'timed out';
}
