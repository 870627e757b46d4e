// The DNS server's flags, shared by `agora frameworks` (FRAMEWORKS_OPTIONS) and `agora up`.
import { opt, type OptionSpec } from '../../core/options.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { isValidDomain } from './names.js';

function domain(flag: string, description: string, def: string): OptionSpec<string> {
  const parse = (raw: unknown, f: string): string => {
    const text = String(raw);
    if (!isValidDomain(text)) throw new InvalidArgumentError(f, `expected a domain of host-name labels (letters, digits, '-', joined by '.'), got '${text}'`);
    return text.toLowerCase().replace(/\.?$/, '.');
  };
  return { flag, description, parse, default: def };
}

export const DNS_OPTIONS = {
  dnsPort: opt.port('--dns-port', 'service DNS port, UDP and TCP (0 picks a free port)', 8600),
  dnsBind: opt.optionalString('--dns-bind', 'address the service DNS listens on (default: --bind); anyone who reaches it learns service names and addresses'),
  dnsTtl: opt.duration('--dns-ttl', 'TTL of the service DNS records (whole seconds)', '5s', { minMs: 0, maxMs: 3_600_000 }),
  dnsDomain: domain('--dns-domain', 'the domain service DNS answers for: <service>.services.<domain>', 'agora.'),
  dnsTcpMaxConnections: opt.int('--dns-tcp-max-connections', 'open TCP connections on the service DNS; more are closed at once', 64, { min: 1 }),
  dnsRate: opt.int('--dns-rate', 'service DNS queries a second one client address may make; more are dropped (0 = no limit)', 1000, { min: 0 }),
  dnsTcpIdleTimeout: opt.duration('--dns-tcp-idle-timeout', 'a service DNS TCP connection with no complete query for this long is closed', '5s', { minMs: 10, maxMs: 3_600_000 }),
};
