// What a query name means in the service domain (pure). Names are compared lower-cased; the
// domain is `--dns-domain` (default `agora.`), the services live under `services.<domain>`:
//
//   <domain>, services.<domain>                 the zone itself: exists, holds no records
//   <service>.services.<domain>                 A / AAAA: the service's available endpoints
//   _<port>._tcp.<service>.services.<domain>    SRV: one record per endpoint with that port name
//   <task label>.<service>.services.<domain>    A / AAAA: the endpoint an SRV record points at
//
// Anything else under the domain does not exist (NXDOMAIN); a name outside it is not ours (REFUSED).

export type NameMeaning =
  | { readonly kind: 'outside' }
  | { readonly kind: 'zone' }
  | { readonly kind: 'service'; readonly service: string }
  | { readonly kind: 'srv'; readonly service: string; readonly port: string }
  | { readonly kind: 'task'; readonly service: string; readonly label: string }
  | { readonly kind: 'unknown' };

/** A DNS label as host names have them (RFC 1123): letters, digits, '-', 1–63, no '-' at either end. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(value: string): boolean {
  return LABEL.test(value);
}

/** `agora.`, `Agora`, `.agora.` → `agora`: the domain without its dots, lower-cased. */
export function normalizeDomain(domain: string): string {
  return domain.toLowerCase().replace(/^\.+|\.+$/g, '');
}

/** Is `domain` a usable --dns-domain: one or more host-name labels, at most 200 characters? */
export function isValidDomain(domain: string): boolean {
  const bare = normalizeDomain(domain);
  return bare.length > 0 && bare.length <= 200 && bare.split('.').every(isDnsLabel);
}

export function meaningOf(name: string, domain: string): NameMeaning {
  const qname = name.toLowerCase().replace(/\.$/, '');
  if (qname === domain) return { kind: 'zone' };
  if (!qname.endsWith(`.${domain}`)) return { kind: 'outside' };
  const labels = qname.slice(0, -(domain.length + 1)).split('.');
  if (labels.pop() !== 'services') return { kind: 'unknown' };
  if (labels.length === 0) return { kind: 'zone' };
  const service = labels.pop() as string;
  if (!isDnsLabel(service)) return { kind: 'unknown' };
  if (labels.length === 0) return { kind: 'service', service };
  if (labels.length === 1) return { kind: 'task', service, label: labels[0] as string };
  if (labels.length === 2 && labels[1] === '_tcp' && (labels[0] ?? '').startsWith('_')) return { kind: 'srv', service, port: (labels[0] as string).slice(1) };
  return { kind: 'unknown' };
}

/**
 * A task id as one label: lower-cased, every character other than a letter, digit or '-' made '-',
 * trimmed of '-' at the ends and cut to 63 (`web.3.k2f9x1qa` → `web-3-k2f9x1qa`), as Mesos-DNS
 * names its SRV targets after tasks.
 */
export function taskLabel(taskId: string): string {
  const label = taskId.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63).replace(/^-+|-+$/g, '');
  return label === '' ? 'task' : label;
}
