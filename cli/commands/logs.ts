// `agora logs TASK_ID|service/NAME|job/NAME|cronjob/NAME [-f] [--stderr] [--tail LINES]
// [--limit-bytes BYTES]`: task output, read from the agent that ran each task (found through the
// master; a workload's task these credentials cannot see there is read through the Jobs API).
//
//   TASK_ID        that task's output, as it is
//   service/NAME   every placed instance's, each line prefixed `[TASK_ID] ` (kubectl --prefix);
//   job/NAME       with -f all are followed at once, and instances that start later join from
//                  their first line (the workload is looked at every --refresh); it ends when
//                  every followed task has ended and the workload has no live instance left (a
//                  service's logs, never: ^C)
//   cronjob/NAME   the latest task of the newest run that launched one (or of --run's)
//
// --tail counts lines (the last N of each task); --limit-bytes is the last N bytes.
import type { Command } from 'commander';
import { AgoraError, InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { parseDuration } from '../../core/options.js';
import { isTaskState, isTerminal } from '../../core/task-state.js';
import type { CronJobRun, Instance, Workload } from '../../proto/index.js';
import { withClientFlags, type AgoraClient } from '../client.js';
import { completeLines, lastLinesStart, LinePrefixer } from './log-lines.js';
import { clientFor, parseRef, type WorkloadRef } from './shared.js';

interface LogFlags {
  follow?: boolean;
  stderr?: boolean;
  tail?: string;
  limitBytes?: string;
  run?: string;
  refresh: string;
}

interface ReadOptions {
  readonly stream: 'stdout' | 'stderr';
  readonly follow: boolean;
  /** The last N lines; undefined: all. */
  readonly tailLines: number | undefined;
  /** The last N bytes (--limit-bytes). */
  readonly lastBytes: number | undefined;
}

/** How far back a --tail read first looks; doubled until it holds enough lines. */
const TAIL_FIRST_BYTES = 16 * 1024;
const TAIL_MAX_BYTES = 64 * 1024 * 1024;

export function registerLogsCommand(program: Command): void {
  const cmd = program
    .command('logs')
    .description("print a task's output, or every instance's of a service or job (each line prefixed [TASK_ID]); -f follows")
    .argument('<target>', 'a task id, service/NAME, job/NAME or cronjob/NAME')
    .option('-f, --follow', 'keep printing new output (of every instance, new ones too) until the tasks end')
    .option('--stderr', 'stderr instead of stdout')
    .option('--tail <lines>', 'only the last LINES lines (of each task)')
    .option('--limit-bytes <bytes>', 'only the last BYTES bytes (of each task)')
    .option('--run <id>', 'with cronjob/NAME: this run instead of the latest')
    .option('--refresh <duration>', 'with -f on service/NAME or job/NAME: how often to look for new instances', '2s');
  withClientFlags(cmd).action(async (target: string, flags: LogFlags) => {
    const options = readOptions(flags);
    const refreshMs = parseDuration(flags.refresh, '--refresh');
    if (flags.run !== undefined && !target.includes('/')) throw new InvalidArgumentError('--run', 'goes with cronjob/NAME, not a task id');
    const ref = target.includes('/') ? parseRef(target) : undefined;
    if (flags.run !== undefined && ref?.kind !== 'CRONJOB') throw new InvalidArgumentError('--run', `goes with cronjob/NAME, not ${ref?.label ?? target}`);
    const client = clientFor(cmd);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    const write = (data: Buffer): void => void process.stdout.write(data);
    try {
      if (ref === undefined || ref.kind === 'CRONJOB') {
        const taskId = ref === undefined ? target : await taskOfRun(client, ref, flags.run);
        await readTask(client, taskId, options, write, abort.signal);
      } else {
        await readWorkload(client, ref, options, refreshMs, write, abort.signal);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}

function readOptions(flags: LogFlags): ReadOptions {
  const number = (value: string | undefined, flag: string, what: string): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(flag, `expected a number of ${what}, got '${value}'`);
    return Number(value);
  };
  const tailLines = number(flags.tail, '--tail', 'lines');
  const lastBytes = number(flags.limitBytes, '--limit-bytes', 'bytes');
  if (tailLines !== undefined && lastBytes !== undefined) throw new InvalidArgumentError('--tail', 'give --tail (lines) or --limit-bytes (bytes), not both');
  return { stream: flags.stderr ? 'stderr' : 'stdout', follow: Boolean(flags.follow), tailLines, lastBytes };
}

/** One task's output to `write`: its last lines (or bytes, or all), then, with follow, what comes. */
async function readTask(client: AgoraClient, taskId: string, o: ReadOptions, write: (data: Buffer) => void, signal: AbortSignal): Promise<void> {
  let offset = o.lastBytes === undefined ? 0 : -o.lastBytes;
  if (o.tailLines !== undefined) {
    const { text, next } = await lastLines(client, taskId, o, signal);
    if (text.length > 0) write(text);
    if (!o.follow) return;
    offset = next;
  }
  // Without follow, the last bytes are exactly that many, however much the task writes meanwhile.
  const length = o.lastBytes !== undefined && !o.follow && o.tailLines === undefined ? o.lastBytes : undefined;
  for await (const chunk of client.taskLogs({ taskId, stream: o.stream, offset, follow: o.follow, ...(length ? { length } : {}) }, signal)) write(chunk.data);
}

/** The last `o.tailLines` lines, and the offset just past them (where following goes on). */
async function lastLines(client: AgoraClient, taskId: string, o: ReadOptions, signal: AbortSignal): Promise<{ text: Buffer; next: number }> {
  for (let back = TAIL_FIRST_BYTES; ; back *= 2) {
    const parts: Buffer[] = [];
    let start: number | undefined;
    for await (const chunk of client.taskLogs({ taskId, stream: o.stream, offset: -back, follow: false }, signal)) {
      start ??= chunk.offset;
      parts.push(chunk.data);
    }
    const data = Buffer.concat(parts);
    const from = start ?? 0;
    if (completeLines(data) >= (o.tailLines ?? 0) || from === 0 || back >= TAIL_MAX_BYTES) {
      return { text: data.subarray(lastLinesStart(data, o.tailLines ?? 0)), next: from + data.length };
    }
  }
}

/** Every placed instance of a service or job, prefixed; with follow, at once and new ones joining. */
async function readWorkload(client: AgoraClient, ref: WorkloadRef, o: ReadOptions, refreshMs: number, write: (data: Buffer) => void, signal: AbortSignal): Promise<void> {
  const first = await instances(client, ref);
  if (!o.follow) {
    const placed = first.filter((t) => t.agentId);
    if (placed.length === 0) throw new NotFoundError('placed instance', ref.label);
    // A task placed a moment ago may not have reached its agent yet: it has no output to show.
    let read = 0;
    for (const t of placed) {
      try {
        await readPrefixed(client, t.taskId!, o, write, signal);
        read += 1;
      } catch (err) {
        if (!(err instanceof AgoraError && err.code === 'AGORA_NOT_FOUND')) throw err;
        process.stderr.write(`[${t.taskId!}] no output yet: the task is starting\n`);
      }
    }
    if (read === 0) throw new NotFoundError('started instance', ref.label);
    return;
  }
  const followed = new Map<string, Promise<void>>();
  const failures: unknown[] = [];
  // Instances that start after the follow began are printed from their first line (--tail and
  // --limit-bytes cut what was there before, and all of theirs is new).
  const fromStart: ReadOptions = { ...o, tailLines: undefined, lastBytes: undefined };
  const join = (list: readonly Instance[], opts: ReadOptions): void => {
    for (const t of list) {
      if (!t.agentId || !t.taskId || followed.has(t.taskId)) continue;
      const id = t.taskId;
      followed.set(
        id,
        readPrefixed(client, id, opts, write, signal).catch((err: unknown) => {
          if (signal.aborted) return;
          failures.push(err);
          process.stderr.write(`warning: [${id}] ${(err as Error).message.split('\n')[0] ?? ''}\n`);
        }),
      );
    }
  };
  join(first, o);
  let current = first;
  while (!signal.aborted) {
    const settled = await allSettledWithin([...followed.values()], refreshMs, signal);
    current = await instances(client, ref).catch(() => current);
    const before = followed.size;
    join(current, fromStart);
    if (settled && followed.size === before && !current.some(isLive)) break;
  }
  if (followed.size > 0 && failures.length === followed.size) throw failures[0];
}

/** Not yet in a terminal state (a state this CLI does not know counts as live). */
function isLive(t: Instance): boolean {
  const state = String(t.state ?? 'TASK_STAGING');
  return !(isTaskState(state) && isTerminal(state));
}

async function readPrefixed(client: AgoraClient, taskId: string, o: ReadOptions, write: (data: Buffer) => void, signal: AbortSignal): Promise<void> {
  const lines = new LinePrefixer(taskId, write);
  try {
    await readTask(client, taskId, o, (data) => lines.write(data), signal);
  } finally {
    lines.end();
  }
}

/** True when every promise settled within `ms`; false when the time ran out first. */
export async function allSettledWithin(promises: readonly Promise<void>[], ms: number, signal: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
    // Called every --refresh for as long as a follow lasts: leave no listener on the signal.
    signal.removeEventListener('abort', onAbort);
  }
}

async function instances(client: AgoraClient, ref: WorkloadRef): Promise<Instance[]> {
  const plural = ref.kind === 'SERVICE' ? 'services' : 'jobs';
  const w = await client.jobs<Workload>('GET', `/api/v1/${plural}/${encodeURIComponent(ref.name)}`);
  return [...((ref.kind === 'SERVICE' ? w.serviceStatus?.tasks : w.jobStatus?.tasks) ?? [])];
}

/** The latest task of a cron job's run: `runId`, else the newest run that launched a task. */
async function taskOfRun(client: AgoraClient, ref: WorkloadRef, runId: string | undefined): Promise<string> {
  const w = await client.jobs<Workload>('GET', `/api/v1/cronjobs/${encodeURIComponent(ref.name)}`);
  const all: CronJobRun[] = [...(w.cronjobStatus?.active ?? []), ...(w.cronjobStatus?.history ?? [])];
  if (runId !== undefined) {
    const run = all.find((r) => r.id === runId);
    if (run === undefined) throw new NotFoundError('run', `${runId} of ${ref.label}`);
    const task = run.taskIds?.at(-1);
    if (task === undefined) throw new InvalidArgumentError('--run', `run ${runId} has not launched a task yet`);
    return task;
  }
  const newest = all.filter((r) => (r.taskIds ?? []).length > 0).sort((a, b) => Number(b.startedAtMs ?? 0) - Number(a.startedAtMs ?? 0))[0];
  if (newest === undefined) throw new NotFoundError('run with a task', ref.label);
  return newest.taskIds!.at(-1)!;
}
