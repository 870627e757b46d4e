// What one task of a job asks of an offer (a PendingTask for sdk matchOffers, carrying the
// planner's launch decision) and the TaskInfo it is launched with (pure). Task ids name the job,
// the run, the index and the attempt, so `agora get tasks` reads like the job.
//
//   env: the template's env, then AGORA_JOB, AGORA_JOB_RUN, and for Indexed jobs AGORA_TASK_INDEX and
//        AGORA_JOB_INDEX (the same value; the second is the name workload.proto documents)
import { shortId } from '../../core/ids.js';
import type { PendingTask, TaskPlacement } from '../../sdk/offers.js';
import type { TaskInfo } from '../../proto/index.js';
import { templateTaskInfo } from '../common/task-info.js';
import type { LaunchDecision } from './planner.js';
import { taskShape, type JobSpecDoc } from './spec.js';
import type { ValueResolver } from '../common/value-refs.js';

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

export function taskInfo(spec: JobSpecDoc, run: number, taskId: string, agentId: string, placement: TaskPlacement<JobTask>, values?: ValueResolver): TaskInfo {
  const d = placement.task.decision;
  const labels: Record<string, string> = { 'agora.job': spec.name, 'agora.job.run': String(run), 'agora.job.attempt': String(d.attempt) };
  if (d.index !== undefined) labels['agora.job.index'] = String(d.index);
  const env = { AGORA_JOB: spec.name, AGORA_JOB_RUN: String(run), ...d.env };
  // A template stored before jobs had ports and fetch has neither.
  const task = { ...spec.task, ports: spec.task.ports ?? [], fetch: spec.task.fetch ?? [] };
  return templateTaskInfo(task, { taskId, agentId, name: spec.name, env, labels, ...(values ? { values } : {}) }, placement);
}
