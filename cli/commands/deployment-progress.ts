// Follow a service's deployment until it ends, showing its progress: a live bar on a terminal
// (cli-progress, on stderr), one line per change otherwise (logs, CI, tests). Resolves when the
// deployment succeeds or pauses for a canary; rejects when it fails, is aborted or superseded,
// or the timeout passes.
import { SingleBar } from 'cli-progress';
import { FailedPreconditionError, TimeoutError } from '../../core/errors.js';
import type { Deployment, Workload } from '../../proto/index.js';
import type { AgoraClient } from '../client.js';
import { pretty } from '../table.js';

export interface FollowOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Force the bar (true) or lines (false); default: bar when stderr is a terminal. */
  readonly tty?: boolean;
}

export type DeploymentEnd = 'SUCCEEDED' | 'PAUSED';

interface Snapshot {
  readonly deployment: Deployment | undefined;
  readonly workload: Workload;
}

/** Follow deployment `id` of service `name` (undefined: its active deployment, if any). */
export async function followDeployment(client: AgoraClient, name: string, id: string | undefined, options: FollowOptions): Promise<DeploymentEnd> {
  const label = `service/${name}`;
  const view = options.tty ?? Boolean(process.stderr.isTTY) ? barView(label) : lineView(label);
  const deadline = Date.now() + options.timeoutMs;
  try {
    for (;;) {
      const snap = await snapshot(client, name, id);
      const d = snap.deployment;
      if (!d) {
        view.done(`${label}: no deployment in progress (version ${snap.workload.version ?? '?'})`);
        return 'SUCCEEDED';
      }
      view.update(d, snap.workload);
      const end = ended(d, label);
      if (end) {
        view.done(`${label}: deployment ${d.id ?? ''} ${end === 'PAUSED' ? `paused with ${d.canaryInstances ?? 0} canary instance(s): promote with \`agora rollout promote ${label}\`` : `succeeded (version ${d.version ?? ''})`}`);
        return end;
      }
      if (Date.now() > deadline) throw new TimeoutError(`${label}: deployment ${d.id ?? ''} did not finish within ${Math.round(options.timeoutMs / 1000)}s (${pct(d)}, ${pretty(d.phase, 'DEPLOYMENT_')})`);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 300));
    }
  } finally {
    view.stop();
  }
}

async function snapshot(client: AgoraClient, name: string, id: string | undefined): Promise<Snapshot> {
  const workload = await client.jobs<Workload>('GET', `/api/v1/services/${encodeURIComponent(name)}`);
  const deployments = workload.serviceStatus?.deployments ?? [];
  const deployment = id ? deployments.find((d) => d.id === id) : deployments.find((d) => !isFinished(d.phase));
  return { workload, deployment };
}

function isFinished(phase: Deployment['phase']): boolean {
  return phase === 'DEPLOYMENT_SUCCEEDED' || phase === 'DEPLOYMENT_FAILED' || phase === 'DEPLOYMENT_ABORTED' || phase === 'DEPLOYMENT_SUPERSEDED';
}

/** The deployment's outcome once it has one; throws for the bad ones. */
function ended(d: Deployment, label: string): DeploymentEnd | undefined {
  switch (d.phase) {
    case 'DEPLOYMENT_SUCCEEDED':
      return 'SUCCEEDED';
    case 'DEPLOYMENT_PAUSED':
      return 'PAUSED';
    case 'DEPLOYMENT_FAILED':
    case 'DEPLOYMENT_ABORTED':
    case 'DEPLOYMENT_SUPERSEDED':
      throw new DeploymentFailedError(`${label}: deployment ${d.id ?? ''} ${pretty(d.phase, 'DEPLOYMENT_').toLowerCase()}${d.message ? `: ${d.message}` : ''}`);
    default:
      return undefined;
  }
}

export class DeploymentFailedError extends FailedPreconditionError {}

function pct(d: Deployment): string {
  return `${Math.round(Number(d.progress ?? 0) * 100)}%`;
}

function stepText(d: Deployment): string {
  const steps = d.steps ?? [];
  return steps[Number(d.currentStep ?? 0)]?.description ?? steps.at(-1)?.description ?? '';
}

function counts(w: Workload): string {
  const s = w.serviceStatus;
  return `${s?.ready ?? 0}/${s?.instances ?? 0} ready, ${s?.healthy ?? 0} healthy`;
}

interface View {
  update(d: Deployment, w: Workload): void;
  done(message: string): void;
  stop(): void;
}

function lineView(label: string): View {
  let last = '';
  return {
    update(d, w) {
      const line = `${label}: ${pct(d)} ${pretty(d.phase, 'DEPLOYMENT_')}, ${counts(w)}${stepText(d) ? `: ${stepText(d)}` : ''}`;
      if (line !== last) process.stdout.write(`${line}\n`);
      last = line;
    },
    done: (message) => process.stdout.write(`${message}\n`),
    stop: () => undefined,
  };
}

function barView(label: string): View {
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {phase} | {counts} | {step}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
    barsize: 30,
  });
  let started = false;
  const payload = (d: Deployment, w: Workload): Record<string, string> => ({ phase: pretty(d.phase, 'DEPLOYMENT_'), counts: counts(w), step: stepText(d) });
  return {
    update(d, w) {
      const value = Math.round(Number(d.progress ?? 0) * 100);
      if (!started) bar.start(100, value, payload(d, w));
      else bar.update(value, payload(d, w));
      started = true;
    },
    done(message) {
      if (started) bar.stop();
      started = false;
      process.stdout.write(`${message}\n`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
