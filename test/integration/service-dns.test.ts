// Service DNS over the real services framework: a frameworks host (as `agora frameworks` runs it)
// against a real master and three agents on loopback addresses of their own (127.0.0.2–4, so each
// instance has its own address, as on separate hosts), asked with the real `dig`. A records, SRV
// with their targets, NXDOMAIN, REFUSED, TCP and truncation; a scale from 2 to 3 and a crashed
// instance are followed within a second.
import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../proto/index.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { dig } from '../support/dig.js';
import { call, jobsClient, fastServicesModule, startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { freePorts } from '../support/ports.js';
import { secureFetch } from '../support/security.js';

afterEach(async () => {
  await stopJobsHosts();
  await stopTestAgents();
  await stopHarnesses();
});


// A server that dies when asked (a crash the framework has to notice on its own).
const server = `require('http').createServer((q, s) => q.url === '/die' ? process.exit(3) : s.end('ok')).listen(+process.env.PORT0)`;
/** Long enough that two SRV records with their targets pass 512 bytes. */
const NAME = 'storefront-web-frontend';
const SPEC = [
  'kind: Service',
  `name: ${NAME}`,
  'instances: 2',
  `command: ${JSON.stringify(`exec ${process.execPath} -e "${server}"`)}`,
  'resources: { cpus: 0.05, mem: 32 }',
  'ports: [{ name: http }]',
  'constraints: [[hostname, UNIQUE]]',
  'healthCheck: { type: HTTP, http: { portName: http }, delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1 }',
  'killGracePeriodSeconds: 0.5',
  '',
].join('\n');
const A_NAME = `${NAME}.services.agora`;
const SRV_NAME = `_http._tcp.${NAME}.services.agora`;

async function clusterOfThree(): Promise<{ dnsPort: number; api: string; jobs: ReturnType<typeof jobsClient> }> {
  const h = await MasterHarness.start();
  for (const [i, ip] of ['127.0.0.2', '127.0.0.3', '127.0.0.4'].entries()) {
    const ports = (await freePorts(3)).map((p) => `${p}-${p}`).join(',');
    await startTestAgent(h.address, { hostname: ip, resources: `cpus:1;mem:1024;disk:1024;ports:[${ports}]`, attributes: `n:${i}` });
  }
  const host = await startJobsHost({ master: h.address, masterHttp: h.master.httpAddress, modules: [fastServicesModule], flags: { dnsTtl: '3s' } });
  return { dnsPort: host.dnsPort ?? 0, api: `https://${host.httpAddress}`, jobs: jobsClient(host) };
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

async function endpointsOf(api: string): Promise<Endpoint[]> {
  return ((await (await secureFetch(`${api}/api/v1/services/${NAME}/endpoints`)).json()) as { endpoints: Endpoint[] }).endpoints;
}

describe('service DNS', () => {
  it('answers A and SRV for the available endpoints and follows changes within a second', async () => {
    const { dnsPort, api, jobs } = await clusterOfThree();
    expect((await dig(dnsPort, A_NAME, 'A')).status).toBe('NXDOMAIN');
    await call((cb) => jobs.apply({ document: SPEC }, cb));
    await eventually(async () => (await endpointsOf(api)).length === 2, { timeoutMs: 30_000, what: 'two endpoints' });
    const endpoints = await endpointsOf(api);

    // A: the two instances' addresses, authoritative, no recursion, the TTL of --dns-ttl.
    const a = await eventually(async () => {
      const r = await dig(dnsPort, A_NAME.toUpperCase(), 'A');
      expect(r.answers).toHaveLength(2);
      return r;
    }, { timeoutMs: 1000, what: 'two A records within a second' });
    expect(a).toMatchObject({ status: 'NOERROR' });
    expect(a.flags).toContain('aa');
    expect(a.flags).not.toContain('ra');
    expect(a.answers.every((r) => r.ttl === 3 && r.type === 'A')).toBe(true);
    expect(sorted(a.answers.map((r) => r.data))).toEqual(sorted(endpoints.map((e) => e.ip || e.host || '')));

    // SRV: priority 0, weight 1, each instance's port, a target whose address is in the additional section.
    const srv = await dig(dnsPort, SRV_NAME, 'SRV');
    expect(srv.status).toBe('NOERROR');
    const records = srv.answers.map((r) => r.data.split(' '));
    expect(sorted(records.map(([priority, weight, port]) => `${priority} ${weight} ${port}`))).toEqual(sorted(endpoints.map((e) => `0 1 ${e.ports?.[0]?.number}`)));
    for (const [, , port, target] of records) {
      const endpoint = endpoints.find((e) => String(e.ports?.[0]?.number) === port);
      expect(srv.additionals.find((r) => r.name === target)?.data).toBe(endpoint?.host);
      expect((await dig(dnsPort, target ?? '', 'A')).answers.map((r) => r.data)).toEqual([endpoint?.host]);
      // What a client does with it: connect to the target's address at the SRV port.
      expect(await (await fetch(`http://${endpoint?.host}:${port}/`)).text()).toBe('ok');
    }

    // Over 512 bytes: plain UDP says TC; dig then asks over TCP, which carries it all.
    expect((await dig(dnsPort, SRV_NAME, 'SRV', ['+noedns', '+ignore'])).flags).toContain('tc');
    expect((await dig(dnsPort, SRV_NAME, 'SRV', ['+noedns'])).answers).toHaveLength(2);
    expect((await dig(dnsPort, SRV_NAME, 'SRV', ['+tcp'])).answers).toHaveLength(2);

    // NOERROR with nothing for another type; NXDOMAIN inside the domain; REFUSED outside it.
    expect(await dig(dnsPort, A_NAME, 'AAAA')).toMatchObject({ status: 'NOERROR', answers: [] });
    expect((await dig(dnsPort, 'nope.services.agora', 'A')).status).toBe('NXDOMAIN');
    expect((await dig(dnsPort, 'example.com', 'A')).status).toBe('REFUSED');

    // Scale 2 → 3: the third address is answered within a second of its endpoint appearing.
    await call((cb) => jobs.scale({ name: NAME, instances: 3 }, cb));
    await eventually(async () => (await endpointsOf(api)).length === 3, { timeoutMs: 30_000, what: 'three endpoints' });
    await eventually(async () => expect((await dig(dnsPort, A_NAME, 'A')).answers).toHaveLength(3), { timeoutMs: 1000, what: 'three A records within a second' });

    // An instance crashes: its address is gone within a second of its endpoint going.
    const victim = (await endpointsOf(api))[0] as Endpoint;
    await fetch(`http://${victim.host}:${victim.ports?.[0]?.number}/die`).catch(() => undefined);
    await eventually(async () => !(await endpointsOf(api)).some((e) => e.taskId === victim.taskId), { timeoutMs: 10_000, what: 'the crashed endpoint to go' });
    await eventually(async () => expect((await dig(dnsPort, A_NAME, 'A')).answers.map((r) => r.data)).not.toContain(victim.host), { timeoutMs: 1000, what: 'its A record gone within a second' });
  });
});
