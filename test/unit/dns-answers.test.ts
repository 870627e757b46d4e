// The service DNS's answers (frameworks/dns/answers.ts, names.ts, message.ts): pure, state → bytes.
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { compileFrameworksOptions } from '../../frameworks/host-options.js';
import { answer, RCODE, type ServiceEndpoints } from '../../frameworks/dns/answers.js';
import { applyEvent } from '../../frameworks/dns/follow.js';
import { respond, type Responder } from '../../frameworks/dns/message.js';
import { meaningOf, taskLabel } from '../../frameworks/dns/names.js';
import { ClientRate } from '../../frameworks/dns/rate.js';
import type { Endpoint } from '../../proto/index.js';

const OPTIONS = { domain: 'agora', ttlSeconds: 5 };

function endpoint(taskId: string, ip: string, port = 31000, name = 'http', host = 'node-1'): Endpoint {
  return { taskId, host, ip, ports: [{ number: port, name }], ready: true };
}

const SERVICES: ServiceEndpoints = new Map([
  ['web', [endpoint('web.v1.aaaa', '10.0.0.1', 31001), endpoint('web.v1.bbbb', '10.0.0.2', 31002), endpoint('web.v1.cccc', '10.0.0.2', 31003)]],
  ['db', [endpoint('db.v1.x', '', 5432, 'pg', '127.0.0.7'), endpoint('db.v1.y', '', 5432, 'pg', 'db-host'), endpoint('db.v1.z', 'fd00::9', 5432, 'PG')]],
  ['idle', []],
]);

/** A record's data (OPT records have none). */
const dataOf = (a: Answer): unknown => ('data' in a ? a.data : undefined);

const q = (name: string, type: string): Question => ({ name, type: type as Question['type'], class: 'IN' });

describe('what a name means', () => {
  it.each([
    ['web.services.agora', { kind: 'service', service: 'web' }],
    ['WEB.Services.AGORA.', { kind: 'service', service: 'web' }],
    ['_http._tcp.web.services.agora', { kind: 'srv', service: 'web', port: 'http' }],
    ['web-v1-aaaa.web.services.agora', { kind: 'task', service: 'web', label: 'web-v1-aaaa' }],
    ['agora.', { kind: 'zone' }],
    ['services.agora', { kind: 'zone' }],
    ['web.agora', { kind: 'unknown' }],
    ['a.b.c.web.services.agora', { kind: 'unknown' }],
    ['_http._udp.web.services.agora', { kind: 'unknown' }],
    ['we_b.services.agora', { kind: 'unknown' }],
    ['example.com', { kind: 'outside' }],
    ['notagora', { kind: 'outside' }],
  ])('%s', (name, meaning) => {
    expect(meaningOf(name, 'agora')).toEqual(meaning);
  });

  it('makes task ids single labels', () => {
    expect(taskLabel('web.v3.K2F9x1qa')).toBe('web-v3-k2f9x1qa');
    expect(taskLabel(`.${'a'.repeat(80)}`)).toBe('a'.repeat(62));
    expect(taskLabel('...')).toBe('task');
  });
});

describe('answers', () => {
  it('A: one record per distinct address, case-insensitive, with the TTL', () => {
    const reply = answer(SERVICES, q('Web.Services.Agora.', 'A'), OPTIONS);
    expect(reply.rcode).toBe(RCODE.NOERROR);
    expect(reply.answers).toEqual([
      { name: 'Web.Services.Agora.', type: 'A', class: 'IN', ttl: 5, data: '10.0.0.1' },
      { name: 'Web.Services.Agora.', type: 'A', class: 'IN', ttl: 5, data: '10.0.0.2' },
    ]);
  });

  it('uses the host when it is an IP and there is no ip; skips endpoints with neither', () => {
    expect(answer(SERVICES, q('db.services.agora', 'A'), OPTIONS).answers.map(dataOf)).toEqual(['127.0.0.7']);
    expect(answer(SERVICES, q('db.services.agora', 'AAAA'), OPTIONS).answers.map(dataOf)).toEqual(['fd00::9']);
  });

  it('SRV: priority 0, weight 1, the port, a target per task with its address in the additional section', () => {
    const reply = answer(SERVICES, q('_http._tcp.web.services.agora', 'SRV'), OPTIONS);
    expect(reply.answers.map(dataOf)).toEqual([
      { priority: 0, weight: 1, port: 31001, target: 'web-v1-aaaa.web.services.agora' },
      { priority: 0, weight: 1, port: 31002, target: 'web-v1-bbbb.web.services.agora' },
      { priority: 0, weight: 1, port: 31003, target: 'web-v1-cccc.web.services.agora' },
    ]);
    expect(reply.additionals.map((a) => [a.name, a.type, dataOf(a)])).toEqual([
      ['web-v1-aaaa.web.services.agora', 'A', '10.0.0.1'],
      ['web-v1-bbbb.web.services.agora', 'A', '10.0.0.2'],
      ['web-v1-cccc.web.services.agora', 'A', '10.0.0.2'],
    ]);
    // Port names match whatever their case; an endpoint with no address has no SRV record.
    expect(answer(SERVICES, q('_pg._tcp.db.services.agora', 'SRV'), OPTIONS).answers.map((a) => (dataOf(a) as { target: string }).target)).toEqual(['db-v1-x.db.services.agora', 'db-v1-z.db.services.agora']);
  });

  it("a task's own name answers its address", () => {
    expect(answer(SERVICES, q('web-v1-bbbb.web.services.agora', 'A'), OPTIONS).answers.map(dataOf)).toEqual(['10.0.0.2']);
    expect(answer(SERVICES, q('web-v1-gone.web.services.agora', 'A'), OPTIONS).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('NXDOMAIN for unknown names in the domain, REFUSED outside it', () => {
    expect(answer(SERVICES, q('nope.services.agora', 'A'), OPTIONS)).toEqual({ rcode: RCODE.NXDOMAIN, answers: [], additionals: [] });
    expect(answer(SERVICES, q('web.agora', 'A'), OPTIONS).rcode).toBe(RCODE.NXDOMAIN);
    expect(answer(SERVICES, q('example.com', 'A'), OPTIONS).rcode).toBe(RCODE.REFUSED);
  });

  it('NOERROR and no records: another type, a service with no endpoints, an unknown port', () => {
    for (const [name, type] of [['web.services.agora', 'AAAA'], ['web.services.agora', 'TXT'], ['idle.services.agora', 'A'], ['_nope._tcp.web.services.agora', 'SRV'], ['_http._tcp.web.services.agora', 'A']] as const) {
      expect(answer(SERVICES, q(name, type), OPTIONS), `${name} ${type}`).toEqual({ rcode: RCODE.NOERROR, answers: [], additionals: [] });
    }
  });

  it('ANY draws one HINFO record (RFC 8482), not every record', () => {
    const reply = answer(SERVICES, q('web.services.agora', 'ANY'), OPTIONS);
    expect(reply.answers).toEqual([{ name: 'web.services.agora', type: 'HINFO', class: 'IN', ttl: 5, data: { cpu: 'RFC8482', os: '' } }]);
  });
});

describe('following the watch', () => {
  it('ENDPOINTS replaces the list, ADDED makes a service known, DELETED forgets it', () => {
    const services = new Map<string, readonly Endpoint[]>();
    applyEvent(services, { type: 'ADDED', name: 'web', object: { serviceStatus: { endpoints: [endpoint('w1', '10.0.0.1')] } } });
    expect(services.get('web')).toHaveLength(1);
    applyEvent(services, { type: 'ENDPOINTS', name: 'web', endpoints: [endpoint('w1', '10.0.0.1'), endpoint('w2', '10.0.0.2')] });
    applyEvent(services, { type: 'MODIFIED', name: 'web', object: { serviceStatus: { endpoints: [] } } });
    expect(services.get('web')).toHaveLength(2);
    applyEvent(services, { type: 'DELETED', name: 'web' });
    expect(services.has('web')).toBe(false);
  });
});

describe('the wire', () => {
  const serving: Responder = { services: () => SERVICES, options: OPTIONS };
  const query = (name: string, type: string, extra: Partial<Packet> = {}): Buffer =>
    dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [q(name, type)], ...extra });
  const decode = (b: Buffer | undefined): dnsPacket.DecodedPacket & { rcode: string } => dnsPacket.decode(b as Buffer) as dnsPacket.DecodedPacket & { rcode: string };

  it('answers authoritatively, echoes the id and RD, never offers recursion', () => {
    const reply = decode(respond(query('web.services.agora', 'A'), 'udp', serving));
    expect(reply).toMatchObject({ id: 4242, type: 'response', flag_aa: true, flag_rd: true, flag_ra: false, flag_tc: false, rcode: 'NOERROR' });
    expect(reply.answers).toHaveLength(2);
  });

  it('REFUSED while this instance does not serve', () => {
    expect(decode(respond(query('web.services.agora', 'A'), 'udp', { ...serving, services: () => undefined })).rcode).toBe('REFUSED');
  });

  it('truncates a UDP answer over 512 bytes (TC, no records); TCP and EDNS (up to 1232) carry it', () => {
    const many: ServiceEndpoints = new Map([['big', Array.from({ length: 30 }, (_, i) => endpoint(`big.v1.${i}`, `10.1.0.${i + 1}`))]]);
    const big = { services: () => many, options: OPTIONS };
    const udp = decode(respond(query('big.services.agora', 'A'), 'udp', big));
    expect(udp).toMatchObject({ flag_tc: true, answers: [] });
    expect(decode(respond(query('big.services.agora', 'A'), 'tcp', big)).answers).toHaveLength(30);
    const edns = query('big.services.agora', 'A', { additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] });
    const withEdns = decode(respond(edns, 'udp', big));
    expect(withEdns.flag_tc).toBe(false);
    expect(withEdns.answers).toHaveLength(30);
  });

  it('FORMERR for a readable header with a broken body; nothing for short packets or responses', () => {
    const broken = Buffer.concat([query('web.services.agora', 'A').subarray(0, 12), Buffer.from([0xff, 0xff, 0xff])]);
    expect(decode(respond(broken, 'udp', serving))).toMatchObject({ id: 4242, rcode: 'FORMERR', questions: [] });
    expect(respond(Buffer.from([1, 2, 3]), 'udp', serving)).toBeUndefined();
    expect(respond(dnsPacket.encode({ type: 'response', id: 1, questions: [q('web.services.agora', 'A')] }), 'udp', serving)).toBeUndefined();
  });

  it('NOTIMP for opcodes other than QUERY; FORMERR without exactly one question', () => {
    expect(decode(respond(query('web.services.agora', 'A', { flags: 2 << 11 }), 'udp', serving)).rcode).toBe('NOTIMP');
    expect(decode(respond(dnsPacket.encode({ type: 'query', id: 7, questions: [] }), 'udp', serving)).rcode).toBe('FORMERR');
  });

  it('a class other than IN is refused', () => {
    expect(decode(respond(dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'web.services.agora', type: 'A', class: 'CH' }] }), 'udp', serving)).rcode).toBe('REFUSED');
  });
});

describe('the rate per client', () => {
  it('allows --dns-rate queries a second per address, then drops until the next second', () => {
    let now = 5_000;
    const rate = new ClientRate(2, () => now, 3);
    expect([rate.allow('a'), rate.allow('a'), rate.allow('a'), rate.allow('b')]).toEqual([true, true, false, true]);
    now = 5_999;
    expect(rate.allow('a')).toBe(false);
    now = 6_000;
    expect(rate.allow('a')).toBe(true);
    expect(new ClientRate(0).allow('a')).toBe(true);
  });

  it('stays bounded past maxClients addresses without forgetting the counts it has', () => {
    let now = 7_000;
    const rate = new ClientRate(2, () => now, 3);
    expect([rate.allow('victim'), rate.allow('victim')]).toEqual([true, true]);
    // A flood of forged sources: two fill the table, the other 98 share one budget of 2 ...
    expect(Array.from({ length: 100 }, (_, i) => rate.allow(`forged-${i}`)).filter(Boolean)).toHaveLength(2 + 2);
    // ... and the address it reflects at is still over its limit.
    expect(rate.allow('victim')).toBe(false);
    now = 8_000;
    expect(rate.allow('victim')).toBe(true);
  });
});

describe('flags', () => {
  it('defaults: port 8600, TTL 5 s, domain agora.', () => {
    expect(compileFrameworksOptions({ master: '127.0.0.1:5051' })).toMatchObject({ dnsPort: 8600, dnsTtl: 5000, dnsDomain: 'agora.', dnsBind: undefined });
    expect(compileFrameworksOptions({ master: '127.0.0.1:5051', dnsDomain: 'Cluster.Example' }).dnsDomain).toBe('cluster.example.');
  });

  it.each([
    [{ dnsDomain: 'bad_domain' }, '--dns-domain'],
    [{ dnsPort: '70000' }, '--dns-port'],
    [{ dnsTtl: '2h' }, '--dns-ttl'],
    [{ dnsTcpMaxConnections: '0' }, '--dns-tcp-max-connections'],
  ])('%j is refused naming %s', (raw, flag) => {
    expect(() => compileFrameworksOptions({ master: '127.0.0.1:5051', ...raw })).toThrow(flag);
  });
});
