// The frameworks host's side of trust, for `agora frameworks` and for `agora up`:
//
//   drivers        the built-in frameworks subscribe with the host's token, trusting the cluster CA
//   HTTP clients   the master's operator API and the agents' logs, with the same token
//   Jobs API       served over TLS; callers are authenticated by the master (its Access service,
//                  asked and cached by core/security/remote.ts) — or, embedded in `agora up`, by
//                  the master's own authenticator
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { INSECURE, type Authenticator } from '../core/security/authenticate.js';
import { RemoteAuthenticator } from '../core/security/remote.js';
import { grpcChannelCredentials, hasIdentity, loadTlsFiles, type ServerTls, type TlsMaterial } from '../core/security/tls.js';
import { parseToken } from '../core/security/tokens.js';
import { httpAuth, type HttpAuth } from './api/http-client.js';
import type { FrameworkAccess } from './framework-options.js';
import type { FrameworksOptions } from './host-options.js';

export interface HostSecurity {
  readonly insecure: boolean;
  readonly scheme: 'http' | 'https';
  /** What the host's own servers speak (undefined: plaintext, or embedded in a master's servers). */
  readonly serverTls: ServerTls | undefined;
  /** What the built-in frameworks' drivers connect with. */
  readonly access: FrameworkAccess;
  /** For requests to the master's and the agents' HTTP endpoints. */
  readonly http: HttpAuth;
  /** Who calls the Jobs API. */
  readonly authenticator: Authenticator & { close?(): void };
}

export const HOST_INSECURE_WARNING = 'security is OFF (--insecure): the Jobs API takes anyone, in plaintext';

/** The built-in frameworks' credentials, in memory (what `agora up` bootstraps). */
export interface HostCredentials {
  readonly token: string;
  readonly tls: TlsMaterial;
}

/** `agora frameworks`: from its flags. `master()` names a master to check callers' credentials with. */
export function hostSecurityFromOptions(options: FrameworksOptions, master: () => string | undefined, logger: Logger): HostSecurity {
  if (options.insecure) {
    logger.warn(HOST_INSECURE_WARNING);
    return { insecure: true, scheme: 'http', serverTls: undefined, access: { insecure: true }, http: {}, authenticator: INSECURE };
  }
  for (const [flag, value] of [['--tls-ca', options.tlsCa], ['--tls-cert', options.tlsCert], ['--tls-key', options.tlsKey], ['--token-file', options.tokenFile]] as const) {
    if (value === undefined) throw new InvalidArgumentError(flag, 'is required unless --insecure');
  }
  const tls = loadTlsFiles({ ca: options.tlsCa as string, cert: options.tlsCert, key: options.tlsKey });
  if (!hasIdentity(tls)) throw new InvalidArgumentError('--tls-cert', 'the Jobs API needs a certificate and key');
  const token = readToken(options.tokenFile as string);
  const credentials = { token, tls: { ca: tls.ca } };
  return {
    ...clientSide(credentials),
    serverTls: tls,
    authenticator: new RemoteAuthenticator({ master, credentials: grpcChannelCredentials({ ca: tls.ca }, token) }),
  };
}

/** `agora up`: the master's servers and authenticator, and the frameworks' token it bootstrapped. */
export function embeddedHostSecurity(authenticator: Authenticator, credentials: HostCredentials | undefined): HostSecurity {
  if (authenticator.insecure || credentials === undefined) {
    return { insecure: true, scheme: 'http', serverTls: undefined, access: { insecure: true }, http: {}, authenticator };
  }
  return { ...clientSide(credentials), serverTls: undefined, authenticator };
}

function clientSide(credentials: HostCredentials): Pick<HostSecurity, 'insecure' | 'scheme' | 'access' | 'http'> {
  return {
    insecure: false,
    scheme: 'https',
    access: { credentials: { ca: credentials.tls.ca, token: credentials.token } },
    http: httpAuth(credentials.token, { ca: credentials.tls.ca }),
  };
}

export function readToken(file: string, flag = '--token-file'): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new InvalidArgumentError(flag, `cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!parseToken(token)) throw new InvalidArgumentError(flag, `'${file}' does not hold an Agora token (agora_…)`);
  return token;
}
