// The agent against a scripted master (a bare AgentGateway server), for the parts of the protocol
// the real master does not yet exercise: a fatal error answered to registration (retried after a
// backoff), pings answered with pongs, reconciliation, and a shutdown (tasks killed, id forgotten,
// the agent stops).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createGrpcServer, type GrpcServer } from '../../core/grpc.js';
import { resourcesToWire } from '../../core/wire.js';
import { Resources } from '../../core/resources.js';
import { AgentGatewayService, type AgentMessage__Output, type MasterMessage } from '../../proto/index.js';
import { processAlive, startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually } from '../support/master-harness.js';
import { Recorder } from '../support/test-agent.js';
import { testPki } from '../support/security.js';

type Stream = grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>;

/** A master that records what agents send and lets the test answer. */
class ScriptedMaster {
  readonly received = new Recorder<AgentMessage__Output>('scripted master', (m) => m.type ?? 'unknown');
  readonly streams: Stream[] = [];
  constructor(
    readonly server: GrpcServer,
    readonly address: string,
  ) {}

  static async start(): Promise<ScriptedMaster> {
    const server = createGrpcServer({ tls: testPki().serverTls });
    let master: ScriptedMaster | undefined;
    server.server.addService(AgentGatewayService, {
      Connect: (stream: Stream) => {
        master?.streams.push(stream);
        stream.on('data', (m: AgentMessage__Output) => master?.received.push(m));
        stream.on('error', () => undefined);
      },
    });
    const port = await server.bind('127.0.0.1', 0);
    master = new ScriptedMaster(server, `127.0.0.1:${port}`);
    return master;
  }

  send(message: MasterMessage, stream = this.streams.at(-1)): void {
    stream?.write(message);
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    await this.server.shutdown(500);
  }
}

const scripted: ScriptedMaster[] = [];

afterEach(async () => {
  await stopTestAgents();
  await Promise.allSettled(scripted.splice(0).map((m) => m.stop()));
});

const registered = (agentId: string): MasterMessage => ({ registered: { agentId, masterInfo: { id: 'm1' }, pingIntervalSeconds: 5, maxMissedPings: 3 } });

describe('agent: protocol with a scripted master', () => {
  it('retries after a fatal registration error, answers pings and reconciliation, and obeys a shutdown', async () => {
    const master = await ScriptedMaster.start();
    scripted.push(master);
    const agent = await startTestAgent(master.address, { reconnectBackoff: '100ms', reconnectBackoffMax: '100ms' });

    await master.received.waitFor((m) => m.type === 'register', { timeoutMs: 5000 });
    master.send({ error: { message: 'not now', fatal: true } });
    const again = master.received.mark();
    await master.received.waitFor((m) => m.type === 'register', { since: again, timeoutMs: 5000, what: 'a second registration' });
    expect(master.streams.length).toBe(2);
    master.send(registered('S-scripted'));
    await eventually(() => agent.lifecycle === 'RUNNING', { what: 'agent running' });
    expect(existsSync(path.join(agent.checkpoint.metaDir, 'agent.json'))).toBe(true);

    master.send({ ping: { seq: 7 } });
    const pong = await master.received.waitFor((m) => m.type === 'pong', { timeoutMs: 5000 });
    expect(Number(pong.pong?.seq)).toBe(7);

    const task = { name: 's', taskId: 's1', resources: resourcesToWire(Resources.parse('cpus:0.1;mem:32')), command: { value: 'sleep 60' }, killPolicy: { gracePeriodSeconds: 0.2 } };
    master.send({ launch: { frameworkId: 'F1', frameworkInfo: { id: 'F1', name: 'fw' }, tasks: [task] } });
    const starting = await master.received.waitFor((m) => m.statusUpdate?.status?.state === 'TASK_STARTING', { timeoutMs: 5000 });
    master.send({ acknowledgement: { frameworkId: 'F1', taskId: 's1', uuid: starting.statusUpdate?.status?.uuid ?? '' } });
    const running = await master.received.waitFor((m) => m.statusUpdate?.status?.state === 'TASK_RUNNING', { timeoutMs: 5000 });
    expect(running.statusUpdate?.status?.agentId).toBe('S-scripted');
    master.send({ acknowledgement: { frameworkId: 'F1', taskId: 's1', uuid: running.statusUpdate?.status?.uuid ?? '' } });
    const pid = agent.tasks.task('F1', 's1')?.container?.checkpoint['pid'] as number;

    master.send({ reconcile: { seq: 3, frameworkId: '', taskIds: [] } });
    const states = await master.received.waitFor((m) => m.type === 'taskStates', { timeoutMs: 5000 });
    expect(Number(states.taskStates?.seq)).toBe(3);
    expect(states.taskStates?.tasks.map((t) => [t.frameworkId, t.task?.taskId, t.latestStatus?.state])).toEqual([['F1', 's1', 'TASK_RUNNING']]);

    master.send({ shutdown: { reason: 'removed by the operator' } });
    const killed = await master.received.waitFor((m) => m.statusUpdate?.status?.state === 'TASK_KILLED', { timeoutMs: 5000 });
    expect(killed.statusUpdate?.status?.reason).toBe('REASON_AGENT_REMOVED');
    await agent.stopped;
    expect(agent.lifecycle).toBe('STOPPED');
    expect(await processAlive(pid)).toBe(false);
    expect(existsSync(path.join(agent.checkpoint.metaDir, 'agent.json'))).toBe(false);
  });
});
