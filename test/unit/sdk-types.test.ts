// The SDK's author-facing types: statuses whose state is a TaskState (isTerminal takes it as is), a
// TaskSpec whose required fields the compiler requires, and resourcesToWire() in the form offers
// carry. The @ts-expect-error lines are checked by `tsc` (npm run typecheck): if a type lets the
// bad value through, the directive itself is an error.
import { describe, expect, it } from 'vitest';
import { Resources, isTerminal, resourcesFromWire, resourcesToWire, taskSpecToWire, type Offer, type TaskSpec, type TaskStatus, type WireTaskStatus } from '../../sdk/index.js';

const resources = resourcesToWire(Resources.parse('cpus:0.5;mem:64;ports:[31000-31001]'));

describe('SDK types', () => {
  it('hand statuses with a TaskState, which the state helpers take without a cast', () => {
    const status = { taskId: 't', state: 'TASK_FAILED' } as TaskStatus;
    expect(isTerminal(status.state)).toBe(true);
    const wire = { taskId: 't', state: 'TASK_STATE_UNSPECIFIED' } as WireTaskStatus;
    // @ts-expect-error the wire state may be TASK_STATE_UNSPECIFIED, which no helper takes
    expect(() => isTerminal(wire.state)).toThrow();
  });

  it('require a task id, name, agent, resources and a command or a container', () => {
    // @ts-expect-error nothing given
    const empty: TaskSpec = {};
    // @ts-expect-error neither a command nor a container
    const noCommand: TaskSpec = { taskId: 't', name: 't', agentId: 'a', resources };
    // @ts-expect-error no agent
    const noAgent: TaskSpec = { taskId: 't', name: 't', resources, command: { value: 'true' } };
    const ok: TaskSpec = { taskId: 't', name: 't', agentId: 'a', resources, command: { shell: true, value: 'sleep 1' } };
    const inContainer: TaskSpec = { taskId: 'c', name: 'c', agentId: 'a', resources, container: { type: 'CONTAINER_DOCKER', docker: { image: 'busybox' } } };
    expect([empty, noCommand, noAgent].length).toBe(3);
    expect(taskSpecToWire(ok)).toMatchObject({ taskId: 't', agentId: 'a', command: { value: 'sleep 1' } });
    expect(taskSpecToWire(inContainer).container).toMatchObject({ docker: { image: 'busybox' } });
  });

  it('give resources in the form of Offer["resources"], which read back as the same Resources', () => {
    const offered: Offer['resources'] = resources;
    expect(resourcesFromWire(offered).equals(Resources.parse('cpus:0.5;mem:64;ports:[31000-31001]'))).toBe(true);
    expect(offered.every((r) => r.reservation === null && Array.isArray(r.set) && Array.isArray(r.ranges))).toBe(true);
  });
});
