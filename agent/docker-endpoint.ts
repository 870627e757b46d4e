// Where the Docker engine is, as Docker's own CLI takes it: `unix:///path` (or a bare absolute
// path) or `tcp://host:port` (plain HTTP, the engine's -H tcp://…:2375). Chosen once, at start:
//
//   --docker-socket  ──►  DOCKER_HOST  ──►  unix:///var/run/docker.sock
//   (the flag wins over the variable; the variable over the default)
//
// TLS to the engine (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) is not supported: with it set, start
// fails naming the variable, rather than talking plain HTTP to an engine that expects TLS.
import { InvalidArgumentError } from '../core/errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export type DockerEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string; readonly url: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly url: string };

/** Docker's port for plain HTTP when tcp:// names none. */
const DOCKER_HTTP_PORT = 2375;

/** `unix:///path`, `/path` or `tcp://host[:port]`; anything else names `field` and what it expected. */
export function parseDockerEndpoint(raw: string, field: string): DockerEndpoint {
  const text = raw.trim();
  const expected = `expected unix:///path/to/docker.sock or tcp://host:port, got '${text.slice(0, 200)}'`;
  if (text.startsWith('/')) return unixEndpoint(text, field);
  if (text.startsWith('unix://')) {
    const socketPath = text.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new InvalidArgumentError(field, `a unix socket needs an absolute path; ${expected}`);
    return unixEndpoint(socketPath, field);
  }
  if (text.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(`http://${text.slice('tcp://'.length)}`);
    } catch {
      throw new InvalidArgumentError(field, expected);
    }
    if (url.hostname === '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') throw new InvalidArgumentError(field, expected);
    const port = url.port === '' ? DOCKER_HTTP_PORT : Number(url.port);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return Object.freeze({ kind: 'tcp', host, port, url: `tcp://${url.host.includes(':') ? url.host : `${url.host}:${port}`}` });
  }
  throw new InvalidArgumentError(field, expected);
}

function unixEndpoint(socketPath: string, field: string): DockerEndpoint {
  if (socketPath.includes('\0')) throw new InvalidArgumentError(field, 'a socket path must not contain NUL');
  return Object.freeze({ kind: 'unix', socketPath, url: `unix://${socketPath}` });
}

/**
 * The engine this process uses: the flag's value if given, else DOCKER_HOST, else the default
 * socket. `env` is the environment to read (process.env in production).
 */
export function resolveDockerEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv, flagName = '--docker-socket'): DockerEndpoint {
  const tlsVerify = env.DOCKER_TLS_VERIFY;
  const fromEnv = env.DOCKER_HOST?.trim();
  const endpoint =
    flag !== undefined && flag.trim() !== ''
      ? parseDockerEndpoint(flag, flagName)
      : fromEnv
        ? parseDockerEndpoint(fromEnv, 'DOCKER_HOST')
        : unixEndpoint(DEFAULT_DOCKER_SOCKET, flagName);
  if (endpoint.kind === 'tcp' && tlsVerify !== undefined && tlsVerify !== '' && tlsVerify !== '0') {
    throw new InvalidArgumentError('DOCKER_TLS_VERIFY', `TLS to the Docker engine is not supported (${endpoint.url}); unset it and reach the engine by a unix socket or plain tcp://`);
  }
  return endpoint;
}

/** dockerode's connection options for the endpoint. */
export function dockerodeOptions(endpoint: DockerEndpoint): { socketPath: string } | { host: string; port: number; protocol: 'http' } {
  return endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port, protocol: 'http' };
}
