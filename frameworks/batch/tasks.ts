// What one task of a job asks of an offer (a PendingTask for sdk matchOffers, carrying the
// planner's launch decision) and the TaskInfo it is launched with (pure). Task ids name the job,
// the run, the index and the attempt, so `agora get tasks` reads like the job.
//
//   env: the template's env, then AGORA_JOB, AGORA_JOB_RUN, and for Indexed jobs AGORA_TASK_INDEX and
//        AGORA_JOB_INDEX (the same value; the second is the name workload.proto documents)
import { shortId } from '../../core/ids.js';
import { resourcesToWire } from '../../core/wire.js';
import type { PendingTask, TaskPlacement } from '../../sdk/offers.js';
import type { CommandInfo, ContainerInfo, TaskInfo } from '../../proto/index.js';
import { commandInfo } from '../services/tasks.js';
import type { LaunchDecision } from './planner.js';
import { taskShape, type JobSpecDoc } from './spec.js';

/** One task waiting for an offer. */
export interface JobTask extends PendingTask {
  readonly job: string;
  readonly decision: LaunchDecision;
}

export function jobTasks(spec: JobSpecDoc, decisions: readonly LaunchDecision[], defaultRole: string): JobTask[] {
  const shape = taskShape(spec);
  return decisions.map((decision) => ({ ...shape, role: shape.role ?? defaultRole, job: spec.name, decision }));
}

/** `crunch.r1.i3.a0.1f2e3d` (Indexed) or `crunch.r1.a0.1f2e3d4c`. */
export function mintTaskId(job: string, run: number, d: LaunchDecision): string {
  return d.index === undefined ? `${job}.r${run}.a${d.attempt}.${shortId(8)}` : `${job}.r${run}.i${d.index}.a${d.attempt}.${shortId(6)}`;
}

export function taskInfo(spec: JobSpecDoc, run: number, taskId: string, agentId: string, placement: TaskPlacement<JobTask>): TaskInfo {
  const d = placement.task.decision;
  const labels: Record<string, string> = { ...spec.task.labels, 'agora.job': spec.name, 'agora.job.run': String(run), 'agora.job.attempt': String(d.attempt) };
  if (d.index !== undefined) labels['agora.job.index'] = String(d.index);
  return {
    name: spec.name,
    taskId,
    agentId,
    resources: resourcesToWire(placement.resources),
    command: command(spec, run, d),
    ...(spec.task.container ? { container: container(spec) } : {}),
    killPolicy: { gracePeriodSeconds: spec.task.killGracePeriodSeconds },
    labels,
  };
}

function command(spec: JobSpecDoc, run: number, d: LaunchDecision): CommandInfo {
  // A job's task fetches nothing: the rest is a service's command (shell or exec form).
  return commandInfo({ ...spec.task, fetch: [] }, { ...spec.task.env, AGORA_JOB: spec.name, AGORA_JOB_RUN: String(run), ...d.env });
}

function container(spec: JobSpecDoc): ContainerInfo {
  const c = spec.task.container!;
  return { type: 'CONTAINER_DOCKER', docker: { image: c.image, forcePull: c.forcePull, network: 'NETWORK_HOST', portMappings: [], parameters: [], privileged: false }, volumes: [] };
}
