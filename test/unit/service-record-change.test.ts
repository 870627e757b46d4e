// What the services book writes after a plan (frameworks/services/record-change.ts, ServiceBook.save):
// a move of the active deployment's progress is kept in memory only (every plan works it out again),
// anything else is written; parts a plan left alone are not serialised to find they are the same.
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceBook } from '../../frameworks/services/book.js';
import { applySpec } from '../../frameworks/services/deployments.js';
import type { DeploymentRecord, ServiceRecord, TaskRecord } from '../../frameworks/services/model.js';
import { recordChange } from '../../frameworks/services/record-change.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';
import { closeStates, memoryState } from '../support/framework-unit.js';

const T0 = Date.UTC(2026, 0, 1);
afterEach(closeStates);

function task(i: number): TaskRecord {
  return { taskId: `web.v1.${i}`, version: 'v1', agentId: 'a1', hostname: 'h1', attributes: {}, ports: [], stagedAtMs: T0, canary: false };
}

/** A service of `n` tasks whose deployment is in progress. */
function service(n = 3): ServiceRecord {
  const spec = parseServiceSpec({ name: 'web', instances: n, command: 'serve', resources: { cpus: 0.1, mem: 32 } });
  const { record } = applySpec(undefined, spec, { now: T0, tasks: [], newId: () => 'd1' });
  const tasks = Object.fromEntries(Array.from({ length: n }, (_, i) => [task(i).taskId, task(i)]));
  const deployments = record.deployments.map((d) => ({ ...d, phase: 'DEPLOYMENT_IN_PROGRESS' as const, progress: 0, message: `0 of ${n}` }));
  return { ...record, tasks, deployments };
}

function withDeployment(r: ServiceRecord, change: Partial<DeploymentRecord>): ServiceRecord {
  return { ...r, deployments: r.deployments.map((d, i) => (i === r.deployments.length - 1 ? { ...d, ...change } : d)) };
}

describe('service record change', () => {
  it('a new record is durable; the same record is no change', () => {
    const r = service();
    expect(recordChange(undefined, r)).toBe('durable');
    expect(recordChange(r, r)).toBe('none');
  });

  it('a plan that rebuilt the record with nothing moved is no change (equal copies of small parts too)', () => {
    const r = { ...service(), relaunches: [] };
    expect(recordChange(r, { ...r, relaunches: [], deployments: r.deployments.map((d) => ({ ...d })) })).toBe('none');
    expect(recordChange(r, { ...r, tasks: { ...r.tasks } })).toBe('none');
  });

  it('the active deployment moving its progress alone is progress', () => {
    const r = service();
    expect(recordChange(r, withDeployment(r, { progress: 0.5, message: '1 of 3' }))).toBe('progress');
  });

  it('anything else is durable: a task, a phase, a failure, a backoff, the count, with or without progress', () => {
    const r = service();
    const { [task(0).taskId]: _gone, ...fewer } = r.tasks;
    expect(recordChange(r, { ...r, tasks: fewer })).toBe('durable');
    expect(recordChange(r, { ...r, tasks: { ...r.tasks, [task(9).taskId]: task(9) } })).toBe('durable');
    expect(recordChange(r, withDeployment(r, { phase: 'DEPLOYMENT_SUCCEEDED', progress: 1 }))).toBe('durable');
    expect(recordChange(r, withDeployment(r, { failures: 1 }))).toBe('durable');
    expect(recordChange(r, withDeployment(r, { progress: 0.5, failures: 1 }))).toBe('durable');
    expect(recordChange(r, { ...withDeployment(r, { progress: 0.5 }), instances: 4 })).toBe('durable');
    const relaunch = { taskId: task(0).taskId, failures: 1, failedAtMs: T0, untilMs: T0 + 1000, reason: 'TASK_FAILED' };
    expect(recordChange(r, { ...withDeployment(r, { progress: 0.5 }), relaunches: [relaunch] })).toBe('durable');
  });

  it('the message of a deployment not in progress is durable (a paused canary says what to do)', () => {
    const r = withDeployment(service(), { phase: 'DEPLOYMENT_PAUSED' });
    expect(recordChange(r, withDeployment(r, { message: 'promote to continue' }))).toBe('durable');
  });
});

describe('service book save', () => {
  it('keeps a progress move in memory, and writes it with the next durable change', async () => {
    const state = await memoryState('agora-services');
    const book = await ServiceBook.load(state);
    const r = service();
    await book.save(r);
    const written = (await state.get<ServiceRecord>('services/web'))!;
    expect(written.value.deployments.at(-1)!.progress).toBe(0);

    const moved = withDeployment(r, { progress: 0.5, message: '1 of 3' });
    await book.save(moved);
    expect(book.need('web')).toBe(moved); // readers see it
    expect((await state.get<ServiceRecord>('services/web'))!.version).toBe(written.version); // not written

    const { [task(0).taskId]: _ended, ...tasks } = moved.tasks;
    await book.save({ ...moved, tasks });
    const after = (await state.get<ServiceRecord>('services/web'))!;
    expect(after.version).toBeGreaterThan(written.version);
    expect(after.value.deployments.at(-1)).toMatchObject({ progress: 0.5, message: '1 of 3' });
    expect(book.owner.has(task(0).taskId)).toBe(false);
    expect(book.owner.get(task(1).taskId)).toBe('web');
  });

  it('writes nothing for a record a plan left as it was', async () => {
    const state = await memoryState('agora-services');
    const book = await ServiceBook.load(state);
    const r = service();
    await book.save(r);
    const { version } = (await state.get<ServiceRecord>('services/web'))!;
    await book.save({ ...r, relaunches: [] });
    expect((await state.get<ServiceRecord>('services/web'))!.version).toBe(version);
  });
});
