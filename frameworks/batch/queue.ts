// The batch queue: which pending job gets offers first, and why each one is still waiting — the
// answer operators read in `agora job get` ("why is this pending?", as Nomad's placement reasons).
//
//   pending jobs ──► orderQueue: priority (higher first), then submission time, then name
//   job + offers ──► explainPending:
//        suspended ─► "suspended"
//        gang      ─► "gang of 4 needs 4 × (cpus:1;mem:128); holding 2 offers covering 2"
//        no offers ─► "waiting for offers"
//        a scalar no offer has enough of ─► "insufficient cpus: need 4, largest offer has 2"
//        else      ─► matchOffers' reasons for the first unplaced task, distinct, in offer order
import { Resources } from '../../core/resources.js';
import type { Offer__Output } from '../../proto/index.js';
import { resourcesFromWire } from '../../core/wire.js';
import { matchOffers, NO_CONTAINERS, type PendingTask } from '../../sdk/offers.js';
import { NO_AGENT_RUNS_CONTAINERS } from '../common/launch-protocol.js';
import { describeGang } from './gang.js';
import { taskShape, type JobSpecDoc } from './spec.js';

export interface QueuedJob {
  readonly spec: JobSpecDoc;
  readonly submittedAtMs: number;
  /** Tasks the planner wants launched now (a gang: the whole wave). */
  readonly pending: number;
}

/** Higher priority first, then the job submitted first, then by name (deterministic). */
export function orderQueue<J extends QueuedJob>(jobs: readonly J[]): J[] {
  return [...jobs].sort(
    (a, b) => b.spec.priority - a.spec.priority || a.submittedAtMs - b.submittedAtMs || (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0),
  );
}

/** The tasks of a job's pending group, in the form matchOffers takes. */
export function pendingTasks(spec: JobSpecDoc, count: number): PendingTask[] {
  const shape = taskShape(spec);
  return Array.from({ length: count }, () => ({ ...shape }));
}

// Reasons beyond this many are summarized ("and 3 more"): a status line, not a report.
const MAX_REASONS = 3;

/**
 * Why `job` is not running yet, given the offers it could use (for a gang job: the offers held for
 * it). Returns '' when the offers would place every pending task.
 */
export function explainPending(job: QueuedJob, offers: readonly Offer__Output[]): string {
  const { spec } = job;
  if (spec.suspend) return 'suspended';
  const tasks = pendingTasks(spec, Math.max(1, job.pending));
  if (spec.gang) {
    const covered = offers.length === 0 ? 0 : tasks.length - matchOffers(offers, tasks).unplaced.length;
    return describeGang(tasks, offers.length, covered);
  }
  if (offers.length === 0) return 'waiting for offers';
  const scalar = insufficientScalar(Resources.parse(taskShape(spec).resources), offers);
  if (scalar !== undefined) return scalar;
  const unplaced = matchOffers(offers, tasks).unplaced[0];
  if (unplaced === undefined) return '';
  if (unplaced.reasons.length > 0 && unplaced.reasons.every((r) => r.reason === NO_CONTAINERS)) return NO_AGENT_RUNS_CONTAINERS;
  const distinct = [...new Set(unplaced.reasons.map((r) => r.reason))];
  const shown = distinct.slice(0, MAX_REASONS).join('; ');
  return distinct.length > MAX_REASONS ? `${shown}; and ${distinct.length - MAX_REASONS} more` : shown;
}

/** "insufficient cpus: need 4, largest offer has 2", for the first scalar no single agent's offers hold. */
function insufficientScalar(need: Resources, offers: readonly Offer__Output[]): string | undefined {
  const perAgent = new Map<string, Resources>();
  for (const o of offers) {
    const r = resourcesFromWire(o.resources, 'offer.resources').flatten();
    perAgent.set(o.agentId, (perAgent.get(o.agentId) ?? Resources.EMPTY).add(r));
  }
  for (const [name, amount] of need.scalars()) {
    let largest = 0;
    for (const r of perAgent.values()) largest = Math.max(largest, r.scalar(name));
    if (largest < amount) return `insufficient ${name}: need ${amount}, largest offer has ${largest}`;
  }
  return undefined;
}
