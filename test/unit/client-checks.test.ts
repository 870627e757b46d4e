// The pure client-side checks (sdk/client-checks.ts): which accepts are refused before sending,
// and the field each refusal names.
import { describe, expect, it } from 'vitest';
import { asLaunchField, checkAccept } from '../../sdk/client-checks.js';
import { thrown } from '../support/thrown.js';

const res = [{ name: 'cpus', type: 'SCALAR' as const, scalar: 1 }];
const offer = (id: string, agentId: string) => ({ id, agentId }) as never;
const launch = (...agents: string[]) => [{ launch: { taskInfos: agents.map((agentId, i) => ({ taskId: `t${i}`, agentId, resources: res })) } }];

describe('checkAccept', () => {
  it('passes tasks on their offers’ agent, and tasks on an offer it cannot place', () => {
    expect(() => checkAccept([offer('o1', 'A')], launch('A', 'A'), () => undefined)).not.toThrow();
    expect(() => checkAccept(['o9'], launch('B'), () => undefined)).not.toThrow(); // unknown offer: the master checks
  });

  it('refuses a task naming another agent, by offer object or remembered id', () => {
    expect(thrown(() => checkAccept([offer('o1', 'A')], launch('A', 'B'), () => undefined))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'operations[0].launch.taskInfos[1].agentId' });
    expect(thrown(() => checkAccept(['o1'], launch('B'), (id) => (id === 'o1' ? 'A' : undefined)))).toMatchObject({ field: 'operations[0].launch.taskInfos[0].agentId' });
    const group = [{ launchGroup: { taskGroup: { tasks: [{ taskId: 'g', agentId: 'B', resources: res }] } } }];
    expect(thrown(() => checkAccept([offer('o1', 'A')], group, () => undefined))).toMatchObject({ field: 'operations[0].launchGroup.taskGroup.tasks[0].agentId' });
  });

  it('refuses offers of two agents, and a task without resources', () => {
    expect(thrown(() => checkAccept([offer('o1', 'A'), offer('o2', 'B')], [], () => undefined))).toMatchObject({ field: 'offerIds[1]' });
    expect(thrown(() => checkAccept([offer('o1', 'A')], [{ launch: { taskInfos: [{ taskId: 'x', agentId: 'A' }] } }], () => undefined))).toMatchObject({ field: 'operations[0].launch.taskInfos[0].resources' });
  });

  it('names a launch call’s own field', () => {
    const err = thrown(() => checkAccept([offer('o1', 'A')], launch('B'), () => undefined));
    expect(asLaunchField(err)).toMatchObject({ field: 'tasks[0].agentId', message: expect.stringMatching(/^tasks\[0\]\.agentId: task 't0' names agent B/) });
  });
});
