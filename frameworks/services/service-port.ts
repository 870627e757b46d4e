// A service's `servicePort` (the port the frameworks host's proxy listens on for it, frameworks/proxy/):
// one service per port, checked when a spec is applied, and a warning when it sits in the agents'
// default port range, where a task may be given the same port on the proxy's machine.
import { InvalidArgumentError } from '../../core/errors.js';
import { specOf, type ServiceRecord } from './model.js';
import type { ServiceSpecDoc } from './spec.js';

/** The agents' default `ports` resource (agent/resources-detect.ts DEFAULT_PORTS). */
export const AGENT_DEFAULT_PORTS = Object.freeze({ begin: 31000, end: 32000 });

/** Refuse a servicePort that another service's current version holds, naming that service. */
export function checkServicePort(spec: ServiceSpecDoc, records: Iterable<ServiceRecord>): void {
  const port = spec.servicePort;
  if (port === undefined) return;
  for (const record of records) {
    if (record.name === spec.name) continue;
    if (specOf(record, record.version)?.servicePort === port) {
      throw new InvalidArgumentError('servicePort', `port ${port} is already the servicePort of service ${record.name}`);
    }
  }
}

/** What an apply should say about its servicePort (nothing is refused for these). */
export function servicePortWarnings(spec: ServiceSpecDoc): string[] {
  const port = spec.servicePort;
  if (port === undefined || port < AGENT_DEFAULT_PORTS.begin || port > AGENT_DEFAULT_PORTS.end) return [];
  return [`servicePort ${port} is in the agents' default port range [${AGENT_DEFAULT_PORTS.begin}-${AGENT_DEFAULT_PORTS.end}]: a task on the proxy's machine may be given it; choose one outside the agents' ranges (e.g. 10000-20000)`];
}
