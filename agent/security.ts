// The agent's side of trust: the certificate it presents to the master (and serves its HTTP
// endpoints with), and who may read those endpoints — asked of the master's Access service,
// since the agent holds no tokens (core/security/remote.ts).
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { INSECURE, type Authenticator } from '../core/security/authenticate.js';
import { RemoteAuthenticator } from '../core/security/remote.js';
import { grpcChannelCredentials, hasIdentity, loadTlsFiles, type ServerTls } from '../core/security/tls.js';
import type { AgentOptions } from './options.js';

export interface AgentSecurity {
  readonly insecure: boolean;
  /** What the agent serves HTTPS with (undefined: plaintext, --insecure). */
  readonly tls: ServerTls | undefined;
  /** How the agent reaches the master. */
  readonly channel: grpc.ChannelCredentials;
  /** Who calls the agent's HTTP endpoints. */
  readonly authenticator: Authenticator & { close?(): void };
}

export const AGENT_INSECURE_WARNING = 'security is OFF (--insecure): no TLS to the master, and anyone who reaches the HTTP port may read every sandbox';

export function agentSecurity(options: AgentOptions, logger: Logger, master: () => string | undefined, given?: ServerTls): AgentSecurity {
  if (options.insecure) {
    logger.warn(AGENT_INSECURE_WARNING);
    return { insecure: true, tls: undefined, channel: grpcChannelCredentials(undefined), authenticator: INSECURE };
  }
  const tls = given ?? loadAgentTls(options);
  const channel = grpcChannelCredentials(tls);
  return { insecure: false, tls, channel, authenticator: new RemoteAuthenticator({ master, credentials: channel }) };
}

function loadAgentTls(options: AgentOptions): ServerTls {
  for (const [flag, value] of [['--tls-ca', options.tlsCa], ['--tls-cert', options.tlsCert], ['--tls-key', options.tlsKey]] as const) {
    if (value === undefined) throw new InvalidArgumentError(flag, 'is required unless --insecure (make the certificate with `agora tls cert create --both --policy agent --host <this host>`)');
  }
  const tls = loadTlsFiles({ ca: options.tlsCa as string, cert: options.tlsCert, key: options.tlsKey });
  if (!hasIdentity(tls)) throw new InvalidArgumentError('--tls-cert', 'the agent needs a certificate and key');
  return tls;
}
