// The answer to one DNS question, from the endpoints of the services (pure: state → answers).
//
//   question ─► meaningOf (names.ts) ─► outside: REFUSED (we recurse for nobody)
//                                     ├► unknown name, unknown service or task: NXDOMAIN
//                                     └► known name: its records of the type asked (none: NOERROR, empty)
//
// A service is known while the services framework has it, with or without endpoints, so a
// service scaled to 0 answers NOERROR with no records, not NXDOMAIN. An SRV name of a known
// service exists whatever the port name (no endpoint may be up to show which ports it has). ANY is
// answered as RFC 8482 allows: one HINFO record "RFC8482", so a small query never draws a large
// answer.
import { isIP } from 'node:net';
import type { Answer, Question } from 'dns-packet';
import type { Endpoint } from '../../proto/index.js';
import { meaningOf, taskLabel, type NameMeaning } from './names.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

/** The available endpoints of every service, by name (what the Jobs API's ENDPOINTS events carry). */
export type ServiceEndpoints = ReadonlyMap<string, readonly Endpoint[]>;

export interface AnswerOptions {
  /** The domain, normalised (names.ts normalizeDomain): `agora`. */
  readonly domain: string;
  readonly ttlSeconds: number;
}

export interface Reply {
  readonly rcode: Rcode;
  readonly answers: Answer[];
  readonly additionals: Answer[];
}

const EMPTY: Reply = { rcode: RCODE.NOERROR, answers: [], additionals: [] };
const NXDOMAIN: Reply = { rcode: RCODE.NXDOMAIN, answers: [], additionals: [] };

/** The endpoint's address: its agent's IP, else its host when that is an IP; none otherwise. */
export function addressOf(endpoint: Endpoint): string | undefined {
  if (endpoint.ip && isIP(endpoint.ip) !== 0) return endpoint.ip;
  if (endpoint.host && isIP(endpoint.host) !== 0) return endpoint.host;
  return undefined;
}

export function answer(services: ServiceEndpoints, question: Question, options: AnswerOptions): Reply {
  const meaning = meaningOf(question.name, options.domain);
  if (meaning.kind === 'outside') return { rcode: RCODE.REFUSED, answers: [], additionals: [] };
  if (meaning.kind === 'unknown') return NXDOMAIN;
  if (meaning.kind === 'zone') return String(question.type) === 'ANY' ? rfc8482(question.name, options) : EMPTY;
  const endpoints = services.get(meaning.service);
  if (endpoints === undefined) return NXDOMAIN;
  const chosen = endpointsNamed(meaning, endpoints);
  if (chosen === undefined) return NXDOMAIN;
  return recordsOf(meaning, chosen, question, options);
}

/** The endpoints a name stands for; undefined when it names a task the service does not have. */
function endpointsNamed(meaning: NameMeaning, endpoints: readonly Endpoint[]): readonly Endpoint[] | undefined {
  if (meaning.kind !== 'task') return endpoints;
  const mine = endpoints.filter((e) => taskLabel(e.taskId ?? '') === meaning.label);
  return mine.length > 0 ? mine : undefined;
}

function recordsOf(meaning: NameMeaning, endpoints: readonly Endpoint[], question: Question, options: AnswerOptions): Reply {
  const type = String(question.type);
  if (type === 'ANY') return rfc8482(question.name, options);
  if (meaning.kind === 'srv') return type === 'SRV' ? srvReply(question.name, meaning.service, meaning.port, endpoints, options) : EMPTY;
  if (type === 'A' || type === 'AAAA') return { rcode: RCODE.NOERROR, answers: addressRecords(question.name, endpoints, type, options.ttlSeconds), additionals: [] };
  return EMPTY;
}

/** One A (or AAAA) record per distinct address, in the endpoints' order (by task id). */
function addressRecords(name: string, endpoints: readonly Endpoint[], type: 'A' | 'AAAA', ttl: number): Answer[] {
  const family = type === 'A' ? 4 : 6;
  const addresses = new Set<string>();
  for (const e of endpoints) {
    const address = addressOf(e);
    if (address !== undefined && isIP(address) === family) addresses.add(address);
  }
  return [...addresses].map((data) => ({ name, type, class: 'IN', ttl, data }));
}

/**
 * One SRV record per endpoint with a port of that name (case-insensitive), priority 0 and weight 1
 * for all — every instance is as good as another, as Mesos-DNS answers — targeting the task's own
 * name, whose address goes in the additional section so a client needs no second query.
 */
function srvReply(name: string, service: string, port: string, endpoints: readonly Endpoint[], options: AnswerOptions): Reply {
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  for (const e of endpoints) {
    const number = e.ports?.find((p) => (p.name ?? '').toLowerCase() === port)?.number;
    const address = addressOf(e);
    if (number === undefined || address === undefined) continue;
    const target = `${taskLabel(e.taskId ?? '')}.${service}.services.${options.domain}`;
    answers.push({ name, type: 'SRV', class: 'IN', ttl: options.ttlSeconds, data: { priority: 0, weight: 1, port: Number(number), target } });
    additionals.push({ name: target, type: isIP(address) === 4 ? 'A' : 'AAAA', class: 'IN', ttl: options.ttlSeconds, data: address });
  }
  return { rcode: RCODE.NOERROR, answers, additionals };
}

function rfc8482(name: string, options: AnswerOptions): Reply {
  return { rcode: RCODE.NOERROR, answers: [{ name, type: 'HINFO', class: 'IN', ttl: options.ttlSeconds, data: { cpu: 'RFC8482', os: '' } }], additionals: [] };
}
