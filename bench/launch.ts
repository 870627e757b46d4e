// `npm run bench -- launch [--runs 200] [--warmup 10] [--executor process]`: how long a trivial
// task (`true`) takes through the whole path — framework Accept → master → agent stream →
// checkpoint → executor → status updates → master → framework — against raw
// `child_process.spawn('sh', ['-c', 'true'])` to exit, measured in the same run, interleaved so
// both see the same machine. Master and agent run in this process, as `agora up` does.
//
// running_ms: Accept called → framework has TASK_RUNNING; finished_ms: → TASK_FINISHED.
// journal_fsync_ms: one durable append to a task journal (the fsync every update pays before it
// is sent), to tell how much of the path is the disk.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { TaskJournal } from '../agent/checkpoint.js';
import { startUp } from '../cli/up-command.js';
import { grpcChannelCredentials } from '../core/security/tls.js';
import { TestFramework, taskInfo } from '../test/support/test-framework.js';

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '200' }, warmup: { type: 'string', default: '10' }, executor: { type: 'string', default: 'process' } } });
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const executor = values.executor === 'fake' ? 'fake' : 'process';
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'agora-bench-launch-'));
  // mkdtemp's 0700 would keep the tasks (run as nobody) from their sandboxes: the agent refuses it.
  await chmod(dataDir, 0o711);
  // Secured as `agora up` is by default: TLS on every link, the framework authenticated by token.
  const up = await startUp({ httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir, executor, resources: 'cpus:8;mem:8192;disk:8192;ports:[31000-31100]', hostname: '127.0.0.1', logLevel: 'silent', insecure: false, writeContext: false, allowRootTasks: false, allowPrivileged: false });
  const security = up.security;
  if (!security) throw new Error('agora up started without security');
  const credentials = grpcChannelCredentials({ ca: security.masterTls.ca }, security.adminToken);
  const fw = await TestFramework.subscribe(up.master.grpcAddress, { name: 'bench-launch', autoAck: true, credentials });
  const spawnMs: number[] = [];
  const runningMs: number[] = [];
  const finishedMs: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const s = await timeSpawn();
      const l = await timeLaunch(fw, `t${i}`, executor);
      if (i < warmup) continue;
      spawnMs.push(s);
      runningMs.push(l.running);
      finishedMs.push(l.finished);
      if ((i - warmup + 1) % 50 === 0) process.stderr.write(`launch: ${i - warmup + 1}/${runs}\n`);
    }
  } finally {
    await fw.close();
    await up.stop();
  }
  const fsyncMs = await timeJournalFsync(dataDir, 100);
  await rm(dataDir, { recursive: true, force: true });
  const spawnP50 = percentile(spawnMs, 50);
  const runningP50 = percentile(runningMs, 50);
  return {
    runs,
    warmup,
    executor,
    spawn_ms_p50: round(spawnP50),
    spawn_ms_p99: round(percentile(spawnMs, 99)),
    running_ms_p50: round(runningP50),
    running_ms_p99: round(percentile(runningMs, 99)),
    finished_ms_p50: round(percentile(finishedMs, 50)),
    finished_ms_p99: round(percentile(finishedMs, 99)),
    ratio_running_to_spawn_p50: round(runningP50 / spawnP50),
    tls: true,
    authenticated: true,
    journal_fsync_ms_p50: round(percentile(fsyncMs, 50)),
  };
}

function timeSpawn(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'true']);
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - started));
  });
}

async function timeLaunch(fw: TestFramework, taskId: string, executor: string): Promise<{ running: number; finished: number }> {
  const offer = await fw.nextOffer({ timeoutMs: 10_000 });
  const task = taskInfo(taskId, 'cpus:0.1;mem:32', executor === 'fake' ? { fake: { durationSeconds: 0 } } : { command: { value: 'true' } });
  const since = fw.events.mark();
  let running = 0;
  const started = performance.now();
  const gotRunning = fw.waitForUpdate(taskId, 'TASK_RUNNING', { since, timeoutMs: 10_000 }).then(() => (running = performance.now() - started));
  const gotFinished = fw.waitForUpdate(taskId, 'TASK_FINISHED', { since, timeoutMs: 10_000 }).then(() => performance.now() - started);
  await fw.launch(offer, [task], { refuseSeconds: 0 });
  const finished = await gotFinished;
  await gotRunning;
  return { running, finished };
}

async function timeJournalFsync(dir: string, n: number): Promise<number[]> {
  const journal = new TaskJournal(path.join(dir, 'fsync-probe.jsonl'));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await journal.append({ ack: `probe-${i}` }, true);
    out.push(performance.now() - started);
  }
  return out;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
