// The address an agent advertises (`--advertise-ip`) on loopback, which has the whole 127/8: it
// reaches the master in the agent's registration, shows on /api/v1/agents, rides on offers and on
// relayed status updates, becomes the service endpoints' `ip`, and is where health checks connect.
import { afterEach, describe, expect, it } from 'vitest';
import { compileAgentOptions } from '../../agent/options.js';
import { getJson, launchTask, startTestAgent } from '../support/agent-harness.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { taskInfo } from '../support/test-framework.js';
import { httpGet } from '../support/http-get.js';
import { thrown } from '../support/thrown.js';
import { portOf, startCluster, stopClusters, until, webSpec } from './services-harness.js';

afterEach(async () => {
  await stopClusters();
  await stopHarnesses();
});

describe('agent addresses', () => {
  it('an agent advertising 127.0.0.3: /api/v1/agents, offers and relayed updates carry its ip', async () => {
    const h = await MasterHarness.start();
    const agent = await startTestAgent(h.address, { advertiseIp: '127.0.0.3' });
    await eventually(async () => {
      const { body } = await getJson<{ agents: { id: string; ip: string }[] }>(`https://${h.master.httpAddress}/api/v1/agents`);
      expect(body.agents).toEqual([expect.objectContaining({ id: agent.agentId, ip: '127.0.0.3' })]);
    }, { what: 'the agent registered with its ip' });
    const fw = await h.framework({ autoAck: true });
    const offer = await launchTask(fw, taskInfo('t1', 'cpus:0.1;mem:32'));
    expect(offer.agentIp).toBe('127.0.0.3');
    const running = await fw.waitForUpdate('t1', 'TASK_RUNNING', { timeoutMs: 10_000 });
    expect(running.agentIp).toBe('127.0.0.3');
  });

  it('a service on an agent advertising 127.0.0.2: endpoints carry the ip, health checks connect there', async () => {
    const c = await startCluster({ agents: [{ advertiseIp: '127.0.0.2' }] });
    // httpd listens on 127.0.0.2 only: a check that connected to 127.0.0.1 (the old fixed host)
    // would never pass, so a healthy endpoint shows where the check went.
    const command = 'mkdir -p www && echo "ok at 127.0.0.2" > www/index.html && exec busybox httpd -f -p 127.0.0.2:$PORT0 -h www';
    await c.services.apply(webSpec({ instances: 2, command }));
    const endpoints = await until(async () => {
      const e = await c.services.endpoints('web');
      return e.length === 2 && e.every((x) => x.healthy === true) && e;
    }, '2 healthy endpoints');
    for (const e of endpoints) {
      expect(e.ip).toBe('127.0.0.2');
      expect((await httpGet({ host: e.ip!, port: portOf(e), path: '/' })).body).toBe('ok at 127.0.0.2\n');
    }
    const tasks = (await c.services.get('web')).serviceStatus?.tasks ?? [];
    expect(tasks.map((t) => t.agentIp)).toEqual(['127.0.0.2', '127.0.0.2']);
  });

  it('the master refuses a registration whose ip is no IP, naming agentInfo.ip', async () => {
    const h = await MasterHarness.start();
    await expect(h.agent({ hostname: 'odd.test', ip: 'not-an-ip' })).rejects.toThrow(/agentInfo\.ip/);
    await expect(h.agent({ hostname: 'any.test', ip: '0.0.0.0' })).rejects.toThrow(/agentInfo\.ip/);
    expect((await h.agent({ hostname: 'old.test' })).agentId).toBeTruthy();
  });

  it('refuses addresses that make no sense, naming the flag', () => {
    const base = { master: '127.0.0.1:5051' };
    expect(thrown(() => compileAgentOptions({ ...base, advertiseIp: 'not-an-ip' }))).toMatchObject({ field: '--advertise-ip' });
    expect(thrown(() => compileAgentOptions({ ...base, advertiseIp: '0.0.0.0' }))).toMatchObject({ field: '--advertise-ip' });
    expect(thrown(() => compileAgentOptions({ ...base, hostname: '0.0.0.0' }))).toMatchObject({ field: '--hostname' });
    expect(thrown(() => compileAgentOptions({ ...base, hostname: '10.231.0.9', bind: '127.0.0.1' }))).toMatchObject({ field: '--bind' });
    expect(compileAgentOptions({ ...base, bind: '0.0.0.0', hostname: 'node-1', advertiseIp: '10.231.0.9' }).advertiseIp).toBe('10.231.0.9');
    expect(compileAgentOptions(base).advertiseIp).toBe('127.0.0.1');
  });
});
