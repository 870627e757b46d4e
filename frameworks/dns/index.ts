// Service discovery by DNS, run by the frameworks host (`agora frameworks`, `agora up`).
//
//   JobsApi.watch(SERVICE) ─► follow.ts: endpoints by service ─┐
//   host leads? (ServingGate) ─────────────────────────────────┴► message.ts ─► answers.ts (pure)
//                                                                    ▲
//                                          server.ts: UDP + TCP on --dns-port (8600)
import type { Logger } from '../../core/logger.js';
import type { ControllerRegistry, JobsApi } from '../api/index.js';
import { EndpointFollower } from './follow.js';
import { normalizeDomain } from './names.js';
import { startDnsServer, type DnsServer } from './server.js';

export type { DnsServer };

export { DNS_OPTIONS } from './options.js';

export interface ServiceDnsConfig {
  readonly dnsPort: number;
  readonly dnsBind: string;
  readonly dnsTtl: number;
  readonly dnsDomain: string;
  readonly dnsTcpMaxConnections: number;
  readonly dnsTcpIdleTimeout: number;
  readonly dnsRate: number;
}

export interface ServiceDnsDeps {
  readonly api: JobsApi;
  readonly registry: ControllerRegistry;
  /** Does this host serve now (leads, and the store vouches for it)? */
  readonly serving: () => boolean;
  readonly logger: Logger;
}

/** Follow the endpoints and answer for them on --dns-port; close() stops both. */
export async function startServiceDns(config: ServiceDnsConfig, deps: ServiceDnsDeps): Promise<DnsServer> {
  const logger = deps.logger.child({ component: 'dns' });
  const follower = new EndpointFollower(deps.api, deps.registry, logger);
  const responder = {
    services: () => (deps.serving() ? follower.current() : undefined),
    options: { domain: normalizeDomain(config.dnsDomain), ttlSeconds: Math.floor(config.dnsTtl / 1000) },
  };
  let server: DnsServer;
  try {
    server = await startDnsServer({ bind: config.dnsBind, port: config.dnsPort, maxTcpConnections: config.dnsTcpMaxConnections, tcpIdleMs: config.dnsTcpIdleTimeout, ratePerSecond: config.dnsRate }, responder, logger);
  } catch (err) {
    follower.close();
    throw new Error(`the service DNS cannot listen on ${config.dnsBind}:${config.dnsPort} (--dns-bind, --dns-port): ${(err as Error).message}`, { cause: err });
  }
  logger.info({ bind: config.dnsBind, port: server.port, domain: config.dnsDomain }, 'service DNS listening');
  return {
    port: server.port,
    close: async () => {
      follower.close();
      await server.close();
    },
  };
}
