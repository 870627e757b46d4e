// `agora describe service/NAME`: everything about one workload for people — spec, versions,
// deployments, tasks, endpoints, and why instances are still pending. Cron jobs: describe-cronjob.ts;
// jobs: describe-job.ts; tasks and agents (the master's objects): describe-task.ts, describe-agent.ts.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { kindFromAlias, namesOf } from '../../frameworks/api/kinds.js';
import type { Instance, ServiceSpec, ServiceStatus, Workload } from '../../proto/index.js';
import { withClientFlags } from '../client.js';
import { age, pretty, type Cell } from '../table.js';
import { describeAgentCommand } from './describe-agent.js';
import { describeCronJob } from './describe-cronjob.js';
import { fields, resourcesLine, section } from './describe-format.js';
import { lastFailureLine } from './describe-failure.js';
import { describeJob } from './describe-job.js';
import { describeTaskCommand } from './describe-task.js';
import { clientFor, parseRef } from './shared.js';
import { describeObject, objectRef } from './objects.js';

export function registerDescribeCommand(program: Command): void {
  const cmd = program
    .command('describe')
    .description('show a service, cron job, job, secret, config, task or agent in detail (e.g. agora describe service/web, agora describe task/ID)')
    .argument('<ref>', 'KIND/NAME (service, cronjob, job) or KIND/ID (task, agent), or KIND')
    .argument('[name]', 'NAME or ID, when KIND is given alone');
  withClientFlags(cmd).action(async (first: string, second: string | undefined) => {
    const master = masterObject(first, second);
    if (master) {
      const client = clientFor(cmd);
      process.stdout.write(master.kind === 'task' ? await describeTaskCommand(client, master.id) : await describeAgentCommand(client, master.id));
      return;
    }
    const object = objectRef(first, second);
    if (object) return describeObject(clientFor(cmd), object);
    const kindText = second !== undefined ? first : first.slice(0, Math.max(0, first.indexOf('/')));
    if (kindText !== '' && !kindFromAlias(kindText)) throw new InvalidArgumentError('KIND/NAME', `unknown kind '${kindText}': expected service, cronjob, job, secret, config, task or agent (e.g. service/web, task/ID)`);
    const ref = parseRef(first, second);
    const w = await clientFor(cmd).jobs<Workload>('GET', `/api/v1/${namesOf(ref.kind).plural}/${encodeURIComponent(ref.name)}`);
    process.stdout.write(ref.kind === 'SERVICE' ? describeService(w) : ref.kind === 'CRONJOB' ? describeCronJob(w) : describeJob(w));
  });
}

const n = (v: unknown): number => Number(v ?? 0);

const MASTER_KINDS: Record<string, 'task' | 'agent'> = { task: 'task', tasks: 'task', agent: 'agent', agents: 'agent', node: 'agent', nodes: 'agent' };

/** `task/ID`, `agent/ID` (or the kind and the id as two arguments); undefined for workloads. */
function masterObject(first: string, second: string | undefined): { kind: 'task' | 'agent'; id: string } | undefined {
  const slash = first.indexOf('/');
  const [kindText, id] = second !== undefined ? [first, second] : slash === -1 ? [first, undefined] : [first.slice(0, slash), first.slice(slash + 1)];
  const kind = MASTER_KINDS[kindText.toLowerCase()];
  if (!kind) return undefined;
  if (!id) throw new InvalidArgumentError('KIND/ID', `'${first}' names no ${kind} (e.g. ${kind}/${kind === 'task' ? 'web.1' : 'S1'}; agora get ${kind}s lists them)`);
  return { kind, id };
}

export function describeService(w: Workload): string {
  const spec: ServiceSpec = w.service ?? {};
  const s: ServiceStatus = w.serviceStatus ?? {};
  const lines: [string, Cell][] = [
    ['Name', w.name],
    ['Kind', 'Service'],
    ['Version', `${w.version ?? ''} (${(s.versions ?? []).length} versions)`],
    ['Created', n(w.createdAtMs) ? `${new Date(n(w.createdAtMs)).toISOString()} (${age(n(w.createdAtMs))} ago)` : ''],
    ['Instances', `${n(s.instances)} desired | ${n(s.staged)} staged | ${n(s.running)} running | ${n(s.healthy)} healthy | ${n(s.unhealthy)} unhealthy | ${n(s.ready)} ready`],
    ['Command', spec.command || (spec.args ?? []).join(' ')],
    ['Image', spec.container?.image],
    ['Resources', resourcesLine(spec.resources)],
    ['Ports', (spec.ports ?? []).map((p) => (p.number ? `${p.name ?? ''}:${String(p.number)}` : p.name)).join(', ')],
    ['Health check', healthCheck(spec.healthCheck)],
    ['Role', spec.role || '(default)'],
    ['Labels', Object.entries(spec.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')],
  ];
  if (spec.autoscale) lines.push(['Autoscale', autoscaleLine(spec.autoscale)]);
  if (s.pendingReason) lines.push(['Pending', `${pendingCount(s)} instance(s) waiting: ${s.pendingReason}`]);
  const failure = lastFailureLine(s.lastFailure);
  if (failure) lines.push(['Last failure', failure]);
  if (n(s.backoffUntilMs) > Date.now()) lines.push(['Backoff', `relaunches delayed until ${new Date(n(s.backoffUntilMs)).toISOString()}`]);
  let out = fields(lines);
  out += section('Versions', ['version', 'created', 'change'], (s.versions ?? []).map((v) => [v.version, `${age(n(v.createdAtMs))} ago`, v.change]));
  out += section(
    'Deployments',
    ['id', 'version', 'from', 'phase', 'progress', 'started', 'message'],
    (s.deployments ?? []).map((d) => [d.id, d.version, d.fromVersion, pretty(d.phase, 'DEPLOYMENT_'), `${Math.round(n(d.progress) * 100)}%`, `${age(n(d.startedAtMs))} ago`, d.message]),
  );
  if (spec.autoscale || (s.autoscaleDecisions ?? []).length > 0) {
    const decisions = [...(s.autoscaleDecisions ?? [])].reverse();
    out += section('Autoscaling', ['when', 'from', 'to', 'reason'], decisions.map((d) => [`${age(n(d.atMs))} ago`, n(d.from), n(d.to), d.reason]));
  }
  out += section(
    'Tasks',
    ['id', 'state', 'healthy', 'ready', 'version', 'host', 'ports', 'age', 'message'],
    (s.tasks ?? []).map((t) => taskRow(t, s.pendingReason)),
  );
  out += section('Endpoints', ['task', 'host', 'ip', 'ports', 'ready', 'healthy'], (s.endpoints ?? []).map((e) => [e.taskId, e.host, e.ip, ports(e.ports), e.ready, e.healthy]));
  return out;
}

function autoscaleLine(a: NonNullable<ServiceSpec['autoscale']>): string {
  const targets = [a.targetCpuUtilization != null ? `cpu ${String(a.targetCpuUtilization)}` : '', a.targetMemoryUtilization != null ? `memory ${String(a.targetMemoryUtilization)}` : ''].filter(Boolean).join(', ');
  return `${n(a.min)}..${n(a.max)} instances, target ${targets} of the allocation; stabilisation down ${n(a.scaleDownStabilizationSeconds)}s, up ${n(a.scaleUpStabilizationSeconds)}s`;
}

function taskRow(t: Instance, pendingReason: string | undefined): Cell[] {
  const pending = !t.agentId && String(t.state ?? '') === 'TASK_STAGING';
  const message = pending && pendingReason ? `pending: ${pendingReason}` : t.message;
  return [t.taskId, pretty(t.state, 'TASK_'), t.healthy, t.ready, t.version, t.hostname, ports(t.ports), n(t.stagedAtMs) ? age(n(t.stagedAtMs)) : '', message];
}

function pendingCount(s: ServiceStatus): number {
  const placed = (s.tasks ?? []).filter((t) => t.agentId).length;
  return Math.max(0, n(s.instances) - placed) || 1;
}

function ports(list: readonly { number?: number | null; name?: string | null }[] | undefined): string {
  return (list ?? []).map((p) => (p.name ? `${p.name}=${String(p.number ?? '')}` : String(p.number ?? ''))).join(',');
}

function healthCheck(h: ServiceSpec['healthCheck']): string {
  if (!h) return '';
  const seconds = (v: unknown, what: string): string => (v === undefined || v === null ? '' : `${what} ${String(v)}s`);
  const timing = [seconds(h.delaySeconds, 'delay'), seconds(h.intervalSeconds, 'every'), seconds(h.timeoutSeconds, 'timeout')].filter(Boolean).join(', ');
  const port = (c: { port?: number | null; portName?: string | null; portIndex?: number | null }): string => (c.port ? String(c.port) : c.portName || `$PORT${String(c.portIndex ?? 0)}`);
  let probe = String(h.type ?? '');
  if (h.http) probe = `HTTP GET ${h.http.scheme || 'http'}://:${port(h.http)}${h.http.path || '/'}`;
  else if (h.tcp) probe = `TCP :${port(h.tcp)}`;
  else if (h.command) probe = `command ${h.command.value ?? ''}`;
  return timing ? `${probe} (${timing})` : probe;
}
