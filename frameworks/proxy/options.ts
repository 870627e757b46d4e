// The proxy's flags, shared by `agora frameworks` (binds every interface: it is the cluster's
// load balancer) and `agora up` (binds loopback: a one-machine cluster is not a network service
// unless asked). Compiled with the host's other flags (host-options.ts, cli/up-command.ts).
import { opt } from '../../core/options.js';

export function proxyOptionSpecs(defaultBind: string) {
  return {
    proxy: opt.bool('--proxy', "run the L4 proxy: listen on each service's servicePort and spread connections over its available instances (false: no proxy)", true),
    proxyBind: opt.string('--proxy-bind', 'address the proxy listens on for service ports (anyone who reaches it reaches the services)', defaultBind),
    proxyConnectTimeout: opt.duration('--proxy-connect-timeout', 'a connection to an instance not made within this long is abandoned and the next instance tried', '2s', { minMs: 1, maxMs: 60_000 }),
    proxyIdleTimeout: opt.duration('--proxy-idle-timeout', 'a proxied connection with no data either way for this long is closed', '10m', { minMs: 1 }),
    proxyMaxConnections: opt.int('--proxy-max-connections', 'open connections per service port; more are refused (closed at once)', 10_000, { min: 1, max: 1_000_000 }),
  };
}

/** What the proxy needs of the compiled flags. */
export interface ProxySettings {
  readonly proxyBind: string;
  readonly proxyConnectTimeout: number;
  readonly proxyIdleTimeout: number;
  readonly proxyMaxConnections: number;
}
