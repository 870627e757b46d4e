// The workload pages' pure decisions (web/pages/workload-model.ts): a deployment's percent and
// which canary actions it allows, rollback targets, a cron job's next run in two zones, the runs'
// rows with outcomes, an Indexed job's per-index status, and the order of the jobs' queue.
import { describe, expect, it } from 'vitest';
import { activeDeployment, canaryActions, duration, frameworkIds, indexRows, nextRunText, progressPercent, queueOrder, rollbackTargets, runRows, workloadEvents, zonedTime, type Workload } from '../../web/pages/workload-model.js';

describe('deployments', () => {
  const deployments = [
    { id: 'd3', version: 'v3', phase: 'DEPLOYMENT_IN_PROGRESS', progress: 0.42 },
    { id: 'd2', version: 'v2', phase: 'DEPLOYMENT_SUCCEEDED', progress: 1 },
  ];

  it('the active one is the first that has not ended', () => {
    expect(activeDeployment({ deployments })?.id).toBe('d3');
    expect(activeDeployment({ deployments: deployments.slice(1) })).toBeUndefined();
    expect(activeDeployment({ deployments: [{ id: 'p', phase: 'DEPLOYMENT_PAUSED' }] })?.id).toBe('p');
    expect(activeDeployment(undefined)).toBeUndefined();
  });

  it('progress is a whole percent, clamped, from 0..1', () => {
    expect(progressPercent({ progress: 0.42 })).toBe(42);
    expect(progressPercent({ progress: 0.999 })).toBe(100);
    expect(progressPercent({ progress: 1.7 })).toBe(100);
    expect(progressPercent({ progress: -1 })).toBe(0);
    expect(progressPercent({})).toBe(0);
    expect(progressPercent(undefined)).toBe(0);
  });

  it('promote only a paused canary; abort anything not ended', () => {
    expect(canaryActions({ phase: 'DEPLOYMENT_PAUSED', canaryInstances: 1 })).toEqual({ promote: true, abort: true });
    expect(canaryActions({ phase: 'DEPLOYMENT_IN_PROGRESS' })).toEqual({ promote: false, abort: true });
    expect(canaryActions({ phase: 'DEPLOYMENT_SUCCEEDED', canaryInstances: 1 })).toEqual({ promote: false, abort: false });
    expect(canaryActions(undefined)).toEqual({ promote: false, abort: false });
  });

  it('rollback offers every other version, newest first', () => {
    const w: Workload = { version: 'v3', serviceStatus: { versions: [{ version: 'v1' }, { version: 'v2' }, { version: 'v3' }] } };
    expect(rollbackTargets(w)).toEqual(['v2', 'v1']);
    expect(rollbackTargets({ version: 'v1', serviceStatus: { versions: [{ version: 'v1' }] } })).toEqual([]);
  });
});

describe('cron jobs', () => {
  const next = Date.UTC(2026, 11, 6, 16, 30); // 17:30 in Berlin (CET, UTC+1)

  it('the next run in the cron job zone and the viewer zone', () => {
    const w: Workload = { cronjob: { schedule: '30 17 * * *', timeZone: 'Europe/Berlin' }, cronjobStatus: { nextScheduleMs: String(next) } };
    expect(nextRunText(w, 'UTC')).toBe('2026-12-06 17:30 Europe/Berlin = 2026-12-06 16:30 your time (UTC)');
    expect(nextRunText(w, 'Europe/Berlin')).toBe('2026-12-06 17:30 (Europe/Berlin)');
    expect(nextRunText({ cronjob: { schedule: '* * * * *' }, cronjobStatus: { nextScheduleMs: next } }, 'America/New_York')).toBe('2026-12-06 16:30 UTC = 2026-12-06 11:30 your time (America/New_York)');
  });

  it('no next run when suspended, dependency-driven or unscheduled', () => {
    expect(nextRunText({ cronjob: { schedule: '* * * * *', suspend: true }, cronjobStatus: { nextScheduleMs: next } }, 'UTC')).toMatch(/^suspended/);
    expect(nextRunText({ cronjob: { after: ['extract', 'load'] } }, 'UTC')).toBe('after extract, load succeed');
    expect(nextRunText({ cronjob: { schedule: '* * * * *' } }, 'UTC')).toBe('not scheduled');
  });

  it('a zone the browser does not know falls back to UTC', () => {
    expect(zonedTime(next, 'Mars/Olympus')).toBe('2026-12-06 16:30 UTC');
  });

  it('runs: active first, then history, each with its outcome, duration and tasks', () => {
    const rows = runRows({
      active: [{ id: 'r3', phase: 'JOB_RUNNING', startedAtMs: 5000, taskIds: ['t3'] }],
      history: [
        { id: 'r2', phase: 'JOB_FAILED', startedAtMs: '1000', finishedAtMs: '91000', exitCode: 2, attempts: 3, taskIds: ['t2a', 't2b'], message: 'backoff limit reached' },
        { id: 'r1', phase: 'JOB_SUCCEEDED', startedAtMs: 0, finishedAtMs: 0, manual: true, exitCode: 0 },
        { id: 'r0', phase: 'JOB_SKIPPED', message: 'previous run still active' },
      ],
    });
    expect(rows.map((r) => [r.id, r.active, r.outcome, r.outcomeKind])).toEqual([
      ['r3', true, 'running', 'wait'],
      ['r2', false, 'failed', 'bad'],
      ['r1', false, 'succeeded', 'ok'],
      ['r0', false, 'skipped', 'warn'],
    ]);
    expect(rows[1]).toMatchObject({ took: '1m 30s', taskIds: ['t2a', 't2b'], detail: 'exit 2 · 3 attempts · backoff limit reached' });
    expect(rows[2]).toMatchObject({ manual: true, took: '', detail: 'exit 0' });
    expect(runRows(undefined)).toEqual([]);
  });

  it('durations read as people say them', () => {
    expect([duration(4_000), duration(60_000), duration(90_000), duration(7_200_000), duration(7_380_000), duration(3 * 86_400_000)]).toEqual(['4s', '1m', '1m 30s', '2h', '2h 3m', '3d']);
  });
});

describe('jobs', () => {
  it('each index of an Indexed job: done, running, retrying or failed, pending', () => {
    const w: Workload = {
      job: { completions: 5, completionMode: 'INDEXED' },
      jobStatus: {
        phase: 'JOB_RUNNING',
        completedIndexes: [0],
        failedIndexes: [2],
        tasks: [
          { taskId: 'i0', index: 0, state: 'TASK_FINISHED' },
          { taskId: 'i1', index: 1, state: 'TASK_RUNNING' },
          { taskId: 'i2a0', index: 2, attempt: 0, state: 'TASK_FAILED' },
          { taskId: 'i2a1', index: 2, attempt: 1, state: 'TASK_FAILED' },
          { taskId: 'i3', index: 3, attempt: 0, state: 'TASK_FAILED' },
          { taskId: 'i3b', index: 3, attempt: 1, state: 'TASK_STAGING' },
        ],
      },
    };
    expect(indexRows(w).map((r) => [r.index, r.state, r.attempts, r.task?.taskId])).toEqual([
      [0, 'succeeded', 1, 'i0'],
      [1, 'running', 1, 'i1'],
      [2, 'retrying', 2, 'i2a1'],
      [3, 'running', 2, 'i3b'],
      [4, 'pending', 0, undefined],
    ]);
    const failed = { ...w, jobStatus: { ...w.jobStatus, phase: 'JOB_FAILED' } };
    expect(indexRows(failed)[2]?.state).toBe('failed');
  });

  it('the queue: running, then waiting by priority and age, then finished newest first', () => {
    const job = (name: string, phase: string, priority: number, createdAtMs: number): Workload => ({ name, job: { priority }, createdAtMs, jobStatus: { phase } });
    const order = queueOrder([job('done-old', 'JOB_SUCCEEDED', 0, 1), job('wait-low', 'JOB_PENDING', 0, 2), job('done-new', 'JOB_FAILED', 0, 9), job('run', 'JOB_RUNNING', 0, 5), job('wait-high', 'JOB_PENDING', 5, 8), job('wait-low-older', 'JOB_PENDING', 0, 1)]);
    expect(order.map((w) => w.name)).toEqual(['run', 'wait-high', 'wait-low-older', 'wait-low', 'done-new', 'done-old']);
  });

  it('framework ids by name, the first of each name', () => {
    expect(frameworkIds([{ id: 'a', name: 'agora-batch' }, { id: 'b', name: 'agora-cron' }, { id: 'c', name: 'agora-batch' }, { id: 'd' }])).toEqual({ 'agora-batch': 'a', 'agora-cron': 'b' });
  });
});

describe('live updates', () => {
  it('a workload page reloads for its own name, its framework task events, and a resync', () => {
    const accepts = workloadEvents('web', 'fw-services');
    expect(accepts('services', { type: 'MODIFIED', kind: 'SERVICE', name: 'web' })).toBe(true);
    expect(accepts('deployments', { type: 'DEPLOYMENT_PROGRESS', kind: 'SERVICE', name: 'web', deployment: { progress: 0.5 } })).toBe(true);
    expect(accepts('services', { type: 'MODIFIED', kind: 'SERVICE', name: 'api' })).toBe(false);
    expect(accepts('endpoints', { type: 'ENDPOINTS', name: 'web-2' })).toBe(false);
    expect(accepts('tasks', { type: 'TASK_UPDATED', frameworkId: 'fw-services', taskId: 'web.v1.a' })).toBe(true);
    expect(accepts('tasks', { type: 'TASK_UPDATED', frameworkId: 'fw-batch', taskId: 'crunch.r1.i0.a0.b' })).toBe(false);
    expect(accepts('tasks', undefined)).toBe(true);
    expect(workloadEvents('web', undefined)('tasks', { frameworkId: 'fw-batch' })).toBe(true);
  });
});
