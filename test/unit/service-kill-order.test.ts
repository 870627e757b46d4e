// A service's task that is to be stopped leaves the endpoints (which the service DNS and the
// proxy follow) before the master is asked to kill it: a client is never sent to a task that has
// been told to stop — on a scale-down or rolling update planned by the supervisor, and on a kill
// asked for by the Jobs API.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { ServiceBook } from '../../frameworks/services/book.js';
import { applySpec } from '../../frameworks/services/deployments.js';
import type { ServiceRecord } from '../../frameworks/services/model.js';
import { PlanDebt } from '../../frameworks/services/plan-debt.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';
import { ServiceSupervisor } from '../../frameworks/services/supervisor.js';
import { endpointsOf } from '../../frameworks/services/views.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { closeStates, memoryState } from '../support/framework-unit.js';

const T0 = Date.UTC(2026, 0, 1);
afterEach(closeStates);

async function setUp() {
  const clock = new FakeClock(T0);
  const book = await ServiceBook.load(await memoryState('agora-services'));
  const spec = parseServiceSpec({ name: 'web', instances: 2, command: 'serve', resources: { cpus: 0.1, mem: 32 }, ports: [{ name: 'http' }] });
  const { record } = applySpec(undefined, spec, { now: T0, tasks: [], newId: () => 'd1' });
  const task = (id: string, port: number) => ({ taskId: id, agentId: 'a1', hostname: 'h1', ip: '10.0.0.1', attributes: {}, version: record.version, ports: [{ number: port, name: 'http' }], stagedAtMs: T0, canary: false });
  const running: ServiceRecord = { ...record, tasks: { t1: task('t1', 31001), t2: task('t2', 31002) } };
  await book.put(running);
  for (const id of ['t1', 't2']) book.runtime.set(id, { state: 'TASK_RUNNING', confirmed: true, startedAtMs: T0, healthySinceMs: T0, message: '' });
  let published: string[] = [];
  const atKill: { taskId: string; endpoints: string[] }[] = [];
  const driver = {
    state: 'SUBSCRIBED',
    kill: async (taskId: string) => void atKill.push({ taskId, endpoints: published }),
    suppress: async () => undefined,
    revive: async () => undefined,
  } as unknown as FrameworkDriver;
  const supervisor = new ServiceSupervisor({
    clock,
    logger: silentLogger(),
    driver: () => driver,
    wake: () => undefined,
    book,
    role: '*',
    backoffResetMs: 60_000,
    killRetryMs: 10_000,
    publish: () => {
      const r = book.records.get('web');
      published = r ? endpointsOf(r, book.tasksOf(r)).map((e) => String(e.taskId)) : [];
    },
    debt: new PlanDebt({ schedule: () => undefined, pay: () => undefined, now: () => clock.now() }),
  });
  return { book, supervisor, atKill, published: () => published };
}

describe('services: a task to be stopped leaves the endpoints before its kill is sent', () => {
  it('on a kill the API asks for', async () => {
    const { book, supervisor, atKill } = await setUp();
    supervisor.killTask(book.need('web'), 't1', 'asked');
    expect(atKill).toEqual([{ taskId: 't1', endpoints: ['t2'] }]);
  });

  it('on a scale-down the supervisor plans', async () => {
    const { book, supervisor, atKill, published } = await setUp();
    await book.put({ ...book.need('web'), instances: 1 });
    await supervisor.replan();
    expect(atKill).toHaveLength(1);
    const killed = atKill[0]!;
    expect(killed.endpoints).not.toContain(killed.taskId);
    expect(killed.endpoints).toHaveLength(1);
    expect(published()).toEqual(killed.endpoints);
  });
});
