// Docker where it is (pure parts): where the engine is found (--docker-socket, DOCKER_HOST, the
// default), the agent's re-check of its engine on an injected clock, offer matching that keeps
// image tasks off agents without DOCKER, and the lines describe prints about the last failure.
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import { CapabilityWatch } from '../../agent/capabilities.js';
import { dockerodeOptions, parseDockerEndpoint, resolveDockerEndpoint } from '../../agent/docker-endpoint.js';
import { compileAgentOptions } from '../../agent/options.js';
import { lastFailedRunLine, lastFailedTaskLine, lastFailureLine } from '../../cli/commands/describe-failure.js';
import { NO_AGENT_RUNS_CONTAINERS, noOfferFits } from '../../frameworks/common/launch-protocol.js';
import type { AgentCapability__Output, Offer__Output } from '../../proto/index.js';
import { matchOffers, NO_CONTAINERS } from '../../sdk/offers.js';
import { thrown } from '../support/thrown.js';

describe('where the Docker engine is', () => {
  it('takes unix:///path, a bare path and tcp://host[:port], as Docker does', () => {
    expect(parseDockerEndpoint('unix:///run/user/1000/docker.sock', 'f')).toEqual({ kind: 'unix', socketPath: '/run/user/1000/docker.sock', url: 'unix:///run/user/1000/docker.sock' });
    expect(parseDockerEndpoint('/var/run/docker.sock', 'f')).toMatchObject({ kind: 'unix', url: 'unix:///var/run/docker.sock' });
    expect(parseDockerEndpoint('tcp://10.0.0.5:2376', 'f')).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2376, url: 'tcp://10.0.0.5:2376' });
    expect(parseDockerEndpoint('tcp://docker.internal', 'f')).toMatchObject({ host: 'docker.internal', port: 2375, url: 'tcp://docker.internal:2375' });
    expect(parseDockerEndpoint('tcp://[::1]:2375', 'f')).toMatchObject({ host: '::1', port: 2375 });
    expect(dockerodeOptions(parseDockerEndpoint('tcp://h:1', 'f'))).toEqual({ host: 'h', port: 1, protocol: 'http' });
    expect(dockerodeOptions(parseDockerEndpoint('unix:///s', 'f'))).toEqual({ socketPath: '/s' });
  });

  it('refuses anything else, naming the flag or variable it came from', () => {
    for (const bad of ['docker.sock', 'unix://relative.sock', 'ssh://me@host', 'tcp://', 'tcp://h:99999', 'tcp://h:1/path', 'npipe:////./pipe/docker_engine']) {
      const err = thrown(() => parseDockerEndpoint(bad, '--docker-socket'));
      expect(err.field, bad).toBe('--docker-socket');
      expect(err.message, bad).toMatch(/expected unix:\/\/\/path\/to\/docker.sock or tcp:\/\/host:port|absolute path/);
    }
    expect(thrown(() => resolveDockerEndpoint(undefined, { DOCKER_HOST: 'bogus' })).field).toBe('DOCKER_HOST');
  });

  it('the flag wins over DOCKER_HOST, which wins over the default socket', () => {
    expect(resolveDockerEndpoint('unix:///flag.sock', { DOCKER_HOST: 'unix:///env.sock' }).url).toBe('unix:///flag.sock');
    expect(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'unix:///env.sock' }).url).toBe('unix:///env.sock');
    expect(resolveDockerEndpoint(undefined, { DOCKER_HOST: '' }).url).toBe('unix:///var/run/docker.sock');
    expect(resolveDockerEndpoint(undefined, {}).url).toBe('unix:///var/run/docker.sock');
    const options = compileAgentOptions({ master: '127.0.0.1:5051' }, { DOCKER_HOST: 'tcp://127.0.0.1:2375' });
    expect(options.dockerEndpoint.url).toBe('tcp://127.0.0.1:2375');
    expect(compileAgentOptions({ master: '127.0.0.1:5051', dockerSocket: '/x.sock' }, { DOCKER_HOST: 'tcp://127.0.0.1:2375' }).dockerEndpoint.url).toBe('unix:///x.sock');
  });

  it('refuses TLS to the engine rather than talking plain HTTP to it', () => {
    const err = thrown(() => resolveDockerEndpoint(undefined, { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1' }));
    expect(err.field).toBe('DOCKER_TLS_VERIFY');
    expect(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'tcp://h:2375', DOCKER_TLS_VERIFY: '0' }).url).toBe('tcp://h:2375');
    expect(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'unix:///s', DOCKER_TLS_VERIFY: '1' }).url).toBe('unix:///s');
  });
});

describe('the agent re-checks its engine', () => {
  function watch(intervalMs: number) {
    const clock = new FakeClock();
    let answer: string | undefined;
    const changes: (readonly AgentCapability__Output[])[] = [];
    let pings = 0;
    const w = new CapabilityWatch({
      ping: async () => {
        pings++;
        return answer;
      },
      endpoint: 'unix:///s',
      clock,
      intervalMs,
      logger: silentLogger(),
      onChange: (c) => changes.push(c),
    });
    return { w, clock, changes, set: (a: string | undefined) => (answer = a), pings: () => pings };
  }

  it('advertises DOCKER while the engine answers, and tells of each change once', async () => {
    const t = watch(1000);
    await t.w.start();
    expect(t.w.capabilities).toEqual(['DOCKER']);
    expect(t.changes).toEqual([]); // the first answer rides the registration
    t.set('the Docker engine is unreachable at unix:///s: connect ENOENT');
    t.clock.advance(1000);
    await flushMicrotasks();
    expect(t.w.capabilities).toEqual([]);
    expect(t.w.dockerProblem).toMatch(/unreachable at unix:\/\/\/s/);
    t.clock.advance(1000);
    await flushMicrotasks();
    expect(t.changes).toEqual([[]]);
    t.set(undefined);
    t.clock.advance(1000);
    await flushMicrotasks();
    expect(t.changes).toEqual([[], ['DOCKER']]);
    expect(t.pings()).toBe(4);
    t.w.stop();
    t.clock.advance(5000);
    await flushMicrotasks();
    expect(t.pings()).toBe(4);
  });

  it('with an interval of 0 checks only at start', async () => {
    const t = watch(0);
    t.set('down');
    await t.w.start();
    expect(t.w.capabilities).toEqual([]);
    expect(t.clock.pending()).toBe(0);
  });
});

function offer(id: string, capabilities: AgentCapability__Output[]): Offer__Output {
  return {
    id,
    frameworkId: 'fw',
    agentId: `agent-${id}`,
    hostname: `host-${id}`,
    resources: resourcesToWire(Resources.parse('cpus:4;mem:4096')) as Offer__Output['resources'],
    attributes: [],
    agentHttpAddress: '',
    allocationRole: '',
    agentIp: '',
    agentCapabilities: capabilities,
    unavailability: null,
    domain: null,
  };
}

describe('image tasks go only to agents that run containers', () => {
  it('skips an agent without DOCKER, and places a plain task anywhere', () => {
    const offers = [offer('a', []), offer('b', ['DOCKER'])];
    const result = matchOffers(offers, [{ resources: 'cpus:1;mem:64', capabilities: ['DOCKER'] }, { resources: 'cpus:1;mem:64' }]);
    expect(result.launches.map((l) => [l.agentId, l.tasks.length])).toEqual([
      ['agent-a', 1],
      ['agent-b', 1],
    ]);
    expect(result.launches.find((l) => l.agentId === 'agent-b')!.tasks[0]!.task.capabilities).toEqual(['DOCKER']);
  });

  it('says why when no agent runs containers', () => {
    const result = matchOffers([offer('a', []), offer('c', [])], [{ resources: 'cpus:1;mem:64', capabilities: ['DOCKER'] }]);
    expect(result.launches).toEqual([]);
    expect(result.unplaced[0]!.reasons.map((r) => r.reason)).toEqual([NO_CONTAINERS, NO_CONTAINERS]);
    expect(noOfferFits(result.unplaced[0]!.reasons)).toBe(NO_AGENT_RUNS_CONTAINERS);
    expect(NO_AGENT_RUNS_CONTAINERS).toBe('no agent runs containers (image tasks need Docker)');
    // Mixed reasons keep the usual summary, Docker's among them.
    expect(noOfferFits([{ reason: NO_CONTAINERS }, { reason: 'insufficient cpus: need 8, offer has 4' }])).toBe(`no offer fits: ${NO_CONTAINERS}; insufficient cpus: need 8, offer has 4`);
  });

  it('refuses a capabilities list that is not one, naming the task', () => {
    const err = thrown(() => matchOffers([offer('a', [])], [{ resources: 'cpus:1', capabilities: 'DOCKER' as never }]));
    expect(err.field).toBe('tasks[0].capabilities');
  });
});

describe('describe: why the last launches failed', () => {
  it('a service: state, reason, host, task and message on one line', () => {
    const line = lastFailureLine({
      taskId: 'web.v1.abc',
      atMs: Date.now() - 5000,
      state: 'TASK_FAILED',
      reason: 'REASON_CONTAINER_LAUNCH_FAILED',
      message: 'the Docker engine is unreachable at unix:///gone.sock: connect ENOENT /gone.sock',
      agentId: 'S1',
      hostname: 'h1',
    });
    expect(line).toMatch(/^Failed \(REASON_CONTAINER_LAUNCH_FAILED\) \d+s ago on h1, task web\.v1\.abc: the Docker engine is unreachable at unix:\/\/\/gone\.sock/);
    expect(lastFailureLine(null)).toBe('');
  });

  it('a job: its latest failed task', () => {
    const tasks = [
      { taskId: 'j.a0', state: 'TASK_FAILED' as const, stagedAtMs: 1, hostname: 'h', message: 'old' },
      { taskId: 'j.a1', state: 'TASK_FAILED' as const, stagedAtMs: 2, hostname: 'h', message: 'the Docker engine is unreachable at unix:///x' },
      { taskId: 'j.a2', state: 'TASK_RUNNING' as const, stagedAtMs: 3 },
    ];
    expect(lastFailedTaskLine(tasks)).toBe('Failed on h, task j.a1: the Docker engine is unreachable at unix:///x');
    expect(lastFailedTaskLine([])).toBe('');
  });

  it('a cron job: its latest failed run', () => {
    const runs = [
      { id: 'r1', phase: 'JOB_FAILED' as const, finishedAtMs: 10, taskIds: ['r1.1.a'], message: 'old' },
      { id: 'r2', phase: 'JOB_FAILED' as const, finishedAtMs: 20, taskIds: ['r2.1.a', 'r2.2.b'], message: 'the Docker engine is unreachable at unix:///x' },
      { id: 'r3', phase: 'JOB_SUCCEEDED' as const, finishedAtMs: 30 },
    ];
    expect(lastFailedRunLine(runs)).toBe('run r2, task r2.2.b: the Docker engine is unreachable at unix:///x');
    expect(lastFailedRunLine([runs[2]!])).toBe('');
  });
});
