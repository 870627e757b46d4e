// `agora rollout status|history|undo|restart|promote|abort service/NAME`: a service's
// deployments and versions, as `kubectl rollout` does for Deployments.
//
//   status    follow the active deployment until it ends (exit 1 if it fails)
//   history   the versions, newest last, and the recent deployments
//   undo      roll back to the previous version, or --to-version V
//   restart   replace every instance, keeping the version
//   promote   finish a paused canary deployment;   abort   stop it and go back
import type { Command } from 'commander';
import { parseDuration } from '../../core/options.js';
import type { DeploymentResponse, Workload } from '../../proto/index.js';
import type { AgoraClient } from '../client.js';
import { withClientFlags } from '../client.js';
import { age, pretty, table } from '../table.js';
import { followDeployment } from './deployment-progress.js';
import { clientFor, parseRef, type WorkloadRef } from './shared.js';

const n = (v: unknown): number => Number(v ?? 0);

export function registerRolloutCommand(program: Command): void {
  const rollout = program.command('rollout').description("manage a service's deployments: status, history, undo, restart, promote, abort");
  const sub = (name: string, description: string): Command => withClientFlags(rollout.command(name).description(description).argument('<ref>', 'service/NAME'));

  const status = sub('status', 'follow the active deployment until it completes').option('--timeout <duration>', 'how long to follow it', '5m');
  status.action(async (refText: string, flags: { timeout: string }) => {
    const ref = parseRef(refText, undefined, 'SERVICE');
    await followDeployment(clientFor(status), ref.name, undefined, { timeoutMs: parseDuration(flags.timeout, '--timeout') });
  });

  const history = sub('history', 'list the versions and recent deployments');
  history.action(async (refText: string) => {
    const ref = parseRef(refText, undefined, 'SERVICE');
    process.stdout.write(historyText(await get(clientFor(history), ref)));
  });

  const undo = sub('undo', 'roll back to the previous version (or --to-version)').option('--to-version <version>', 'the version to go back to');
  undo.action(async (refText: string, flags: { toVersion?: string }) => {
    const ref = parseRef(refText, undefined, 'SERVICE');
    const res = await post(clientFor(undo), ref, 'rollback', flags.toVersion === undefined ? {} : { toVersion: flags.toVersion });
    process.stdout.write(`${ref.label} rolled back to version ${res.version ?? ''} (deployment ${res.deploymentId ?? ''})\n`);
  });

  for (const [action, verb, description] of [
    ['restart', 'restarting', 'replace every instance with a fresh one (same version)'],
    ['promote', 'promoted', 'finish a paused canary deployment'],
    ['abort', 'aborted', 'stop the active deployment and return to the previous version'],
  ] as const) {
    const cmd = sub(action, description);
    cmd.action(async (refText: string) => {
      const ref = parseRef(refText, undefined, 'SERVICE');
      const res = await post(clientFor(cmd), ref, action);
      process.stdout.write(`${ref.label} ${verb} (deployment ${res.deploymentId ?? ''}, version ${res.version ?? ''})\n`);
    });
  }
}

function get(client: AgoraClient, ref: WorkloadRef): Promise<Workload> {
  return client.jobs<Workload>('GET', `/api/v1/services/${encodeURIComponent(ref.name)}`);
}

function post(client: AgoraClient, ref: WorkloadRef, action: string, body?: unknown): Promise<DeploymentResponse> {
  return client.jobs<DeploymentResponse>('POST', `/api/v1/services/${encodeURIComponent(ref.name)}/${action}`, body);
}

export function historyText(w: Workload): string {
  const s = w.serviceStatus ?? {};
  const versions = (s.versions ?? []).map((v, i) => [i + 1, v.version, v.change, `${age(n(v.createdAtMs))} ago`, v.version === w.version ? '*' : '']);
  const deployments = (s.deployments ?? []).map((d) => [d.id, d.fromVersion || '-', d.version, pretty(d.phase, 'DEPLOYMENT_'), `${Math.round(n(d.progress) * 100)}%`, `${age(n(d.startedAtMs))} ago`]);
  return `service/${w.name ?? ''}\n${table(['revision', 'version', 'change', 'created', 'current'], versions)}\n${table(['deployment', 'from', 'to', 'phase', 'progress', 'started'], deployments)}`;
}
