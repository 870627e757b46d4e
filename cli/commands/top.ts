// `agora top`: per agent, what its tasks use (measured) against what they were allocated and the
// agent's total, and allocation per role, from the master's operator API.
// `agora top tasks`: the heaviest live tasks, by CPU (or --sort-by mem), from each connected
// agent's GET /api/v1/containers (found through the master's /api/v1/agents), with the same
// credentials: tasks these credentials may not read on an agent are not listed, and an agent that
// does not answer is named on stderr while the others' tasks are listed.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import type { ContainerJson } from '../../agent/containers.js';
import { AgoraClient, withClientFlags } from '../client.js';
import type { ClientFlags } from '../config.js';
import { mebibytes, table, trim } from '../table.js';
import { topTables, type AgentJson, type RoleJson } from './cluster-views.js';
import { clientFor, count } from './shared.js';

const MIB = 1024 * 1024;
const SORTS = ['cpu', 'mem'] as const;
type SortBy = (typeof SORTS)[number];

export function registerTopCommand(program: Command): void {
  const cmd = program.command('top').description('resources used (measured), allocated and total per agent; allocation per role');
  withClientFlags(cmd).action(async () => {
    const client = clientFor(cmd);
    const [{ agents }, { roles }] = await Promise.all([client.master<{ agents: AgentJson[] }>('/api/v1/agents'), client.master<{ roles: RoleJson[] }>('/api/v1/roles')]);
    process.stdout.write(topTables(agents, roles));
  });
  // The client flags are top's (commander reads them before or after `tasks`).
  const tasks = cmd
    .command('tasks')
    .description('the heaviest live tasks, by CPU or memory used')
    .configureHelp({ showGlobalOptions: true })
    .option('--sort-by <what>', 'cpu (cores used) or mem (working set)', 'cpu')
    .option('--limit <n>', 'how many tasks to list', '20');
  tasks.action(async (flags: { sortBy: string; limit: string }) => {
    if (!(SORTS as readonly string[]).includes(flags.sortBy)) throw new InvalidArgumentError('--sort-by', `expected cpu or mem, got '${flags.sortBy}'`);
    const limit = count(flags.limit, '--limit');
    const rows = await heaviestTasks(AgoraClient.fromFlags(tasks.optsWithGlobals<ClientFlags>()), flags.sortBy as SortBy);
    process.stdout.write(rows.length === 0 ? 'No running tasks found.\n' : topTasksTable(rows.slice(0, limit)));
  });
}

export interface TaskUsageRow extends ContainerJson {
  readonly agent: string;
}

async function heaviestTasks(client: AgoraClient, sortBy: SortBy): Promise<TaskUsageRow[]> {
  const { agents } = await client.master<{ agents: AgentJson[] }>('/api/v1/agents');
  const connected = agents.filter((a) => a.state === 'connected');
  const lists = await Promise.allSettled(
    connected.map(async (a) => {
      const { containers } = await client.agent<{ containers: ContainerJson[] }>(a.httpAddress, '/api/v1/containers');
      return containers.map((c) => ({ ...c, agent: a.hostname }));
    }),
  );
  // An agent that does not answer is named on stderr; the others' tasks are still listed.
  lists.forEach((r, i) => {
    if (r.status === 'rejected') process.stderr.write(`warning: agent ${connected[i]?.id ?? ''} (${connected[i]?.httpAddress ?? ''}): ${(r.reason as Error).message}\n`);
  });
  // None answering is an error of its own (credentials the agents refuse, a CA they do not share).
  const failed = lists.filter((r) => r.status === 'rejected');
  if (failed.length > 0 && failed.length === lists.length) throw failed[0]?.reason;
  const rows = lists.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const key = sortBy === 'cpu' ? (r: TaskUsageRow) => r.usage?.cpuUtilization ?? -1 : (r: TaskUsageRow) => r.usage?.memoryWorkingSetBytes ?? -1;
  return rows.sort((a, b) => key(b) - key(a) || (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}

/** cpus: used / allocated; mem: working set / limit (the allocation when the task has no limit). */
export function topTasksTable(rows: readonly TaskUsageRow[]): string {
  return table(
    ['task', 'workload', 'agent', 'cpus (used/alloc)', 'mem (used/limit)', 'throttled', 'oom', 'disk'],
    rows.map((r) => {
      const u = r.usage;
      const limit = u?.memoryLimitBytes ?? r.allocation.memBytes;
      return [
        r.taskId,
        r.workload,
        r.agent,
        `${u?.cpuUtilization == null ? '-' : trim(u.cpuUtilization)}/${trim(r.allocation.cpus)}`,
        `${u ? mebibytes(u.memoryWorkingSetBytes / MIB) : '-'}/${mebibytes(limit / MIB)}`,
        u ? `${trim(u.cpuThrottledSeconds, 1)}s` : '-',
        u ? u.oomKills : '-',
        u?.diskBytes == null ? '-' : mebibytes(u.diskBytes / MIB),
      ];
    }),
  );
}
