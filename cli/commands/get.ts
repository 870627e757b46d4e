// `agora get agents|frameworks|tasks|services|cronjobs|jobs [NAME] [-o wide|json|yaml]`: aligned
// tables as kubectl prints them. Agents, frameworks and tasks come from the master's operator API;
// services, cron jobs and jobs from the Jobs API.
import type { Command } from 'commander';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { kindFromAlias, namesOf } from '../../frameworks/api/kinds.js';
import type { Workload } from '../../proto/index.js';
import type { AgoraClient } from '../client.js';
import { withClientFlags } from '../client.js';
import { agentsTable, frameworksTable, tasksTable, type AgentJson, type FrameworkJson, type TaskJson } from './cluster-views.js';
import { clientFor, outputFormat, printStructured, type OutputFormat } from './shared.js';
import { cronJobsTable, jobsTable, servicesTable } from './workload-views.js';
import { objectKindFromAlias } from '../../frameworks/objects/spec.js';
import { getObjects } from './objects.js';

const CLUSTER_KINDS: Record<string, 'agents' | 'frameworks' | 'tasks'> = {
  agent: 'agents',
  agents: 'agents',
  framework: 'frameworks',
  frameworks: 'frameworks',
  fw: 'frameworks',
  task: 'tasks',
  tasks: 'tasks',
};

const TASK_LIMIT = 10_000;

export function registerGetCommand(program: Command): void {
  const cmd = program
    .command('get')
    .description('list agents, frameworks, tasks, services, cron jobs or jobs')
    .argument('<what>', 'agents | frameworks | tasks | services | cronjobs | jobs | secrets | configs')
    .argument('[name]', 'one of them, by name (or id)')
    .option('-o, --output <format>', 'wide, json or yaml');
  withClientFlags(cmd).action(async (what: string, name: string | undefined, flags: { output?: string }) => {
    const format = outputFormat(flags.output);
    const client = clientFor(cmd);
    const cluster = CLUSTER_KINDS[what.toLowerCase()];
    if (cluster) return getCluster(client, cluster, name, format);
    const object = objectKindFromAlias(what);
    if (object) return getObjects(client, object, name, format);
    const kind = kindFromAlias(what);
    if (!kind) throw new InvalidArgumentError('what', `cannot get '${what}': expected agents, frameworks, tasks, services, cronjobs, jobs, secrets or configs`);
    const plural = namesOf(kind).plural;
    const items = name === undefined ? (await client.jobs<{ items: Workload[] }>('GET', `/api/v1/${plural}`)).items : [await client.jobs<Workload>('GET', `/api/v1/${plural}/${encodeURIComponent(name)}`)];
    if (format === 'json' || format === 'yaml') return printStructured(format, name === undefined ? items : items[0]);
    const render = { SERVICE: servicesTable, CRONJOB: cronJobsTable, JOB: jobsTable }[kind];
    write(items.length === 0 ? `No ${plural} found.\n` : render(items, format === 'wide'));
  });
}

async function getCluster(client: AgoraClient, what: 'agents' | 'frameworks' | 'tasks', name: string | undefined, format: OutputFormat): Promise<void> {
  const wide = format === 'wide';
  const pick = <T extends { id: string }>(rows: T[], also: (row: T) => string): T[] => {
    if (name === undefined) return rows;
    const found = rows.filter((r) => r.id === name || also(r) === name);
    if (found.length === 0) throw new NotFoundError(what.slice(0, -1), name);
    return found;
  };
  let rows: unknown[];
  let text: () => string;
  if (what === 'agents') {
    const agents = pick((await client.master<{ agents: AgentJson[] }>('/api/v1/agents')).agents, (a) => a.hostname);
    [rows, text] = [agents, () => agentsTable(agents, wide)];
  } else if (what === 'frameworks') {
    const frameworks = pick((await client.master<{ frameworks: FrameworkJson[] }>('/api/v1/frameworks')).frameworks, (f) => f.name);
    [rows, text] = [frameworks, () => frameworksTable(frameworks, wide)];
  } else {
    const [{ tasks }, { frameworks }] = await Promise.all([
      client.master<{ tasks: TaskJson[] }>(`/api/v1/tasks?limit=${TASK_LIMIT}`),
      client.master<{ frameworks: FrameworkJson[] }>('/api/v1/frameworks'),
    ]);
    const picked = pick(tasks, (t) => t.name);
    [rows, text] = [picked, () => tasksTable(picked, new Map(frameworks.map((f) => [f.id, f.name])), wide)];
  }
  if (format === 'json' || format === 'yaml') return printStructured(format, name === undefined ? rows : rows[0]);
  write(rows.length === 0 ? `No ${what} found.\n` : text());
}

function write(text: string): void {
  process.stdout.write(text);
}
