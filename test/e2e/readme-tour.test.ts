// README.md's "The first five minutes", run as written: its yaml blocks become the files it names,
// its sh lines run one by one through a shell, with `agora` the built CLI, against a fresh
// `agora up` whose data dir is `.agora` in the shell's working directory, as after `npm start`.
// Nothing here knows the tour's lines: a line added to the README is run and must exit 0 (an
// `agora exec … -- …`, a Secret's yaml block, which is applied if no command names its file).
// What the tour promises is checked where its lines say it: a `curl` of a service's endpoints
// lists them and each answers; after `rollout undo` they answer as before the update; a cron job
// run by `agora run` succeeds; a job completes (and again after `agora run job/…`); a line that
// follows forever (`-f`, `?watch=1`) runs for a bounded time and must not fail in it.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/agent-harness.js';
import { CLI, killProcessesUnder, startUpProcess, stopCliProcesses, type UpProcess } from '../support/cli.js';
import { follows, sectionOf, tourSteps, type TourStep } from '../support/readme-tour.js';
import { tempDir } from '../support/tmp.js';
import { eventually } from '../support/waits.js';

const COMMAND_TIMEOUT_MS = 120_000;
const FOLLOW_FOR_MS = 3_000;
const SETTLE_TIMEOUT_MS = 60_000;

let up: UpProcess | undefined;
let work = '';

afterAll(async () => {
  up?.kill('SIGTERM');
  await up?.exited;
  await stopCliProcesses();
  if (work !== '') await killProcessesUnder(path.join(work, '.agora'));
});

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** Still running when the bound came (and was then stopped). */
  readonly bounded: boolean;
}

describe('README: the first five minutes', () => {
  const section = sectionOf(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'), 'The first five minutes');
  const steps = tourSteps(section.text, section.firstLine);

  it('has files and commands to run', () => {
    expect(steps.filter((s) => s.kind === 'file').length).toBeGreaterThanOrEqual(3);
    expect(steps.filter((s) => s.kind === 'command').length).toBeGreaterThanOrEqual(10);
  });

  it('runs every command as written against a fresh agora up', { timeout: 900_000 }, async () => {
    work = await tempDir('readme-tour');
    up = await startUpProcess(path.join(work, '.agora'), 30_000, 'cpus:2;mem:2048;disk:1024', 16);
    const env = shellEnv(work, up);
    const port = (address: string): string => address.split(':').at(-1) ?? '';
    const ports: Record<string, string> = { '5050': port(up.masterUrl), '5051': port(up.grpc), '5052': port(up.agentUrl) };
    const commands = steps.filter((s): s is Extract<TourStep, { kind: 'command' }> => s.kind === 'command');
    const answers = new Map<string, string[]>();
    let workload: string | undefined;

    const run = (text: string, boundMs?: number): Promise<Run> => shell(text, work, env, boundMs);
    const agoraJson = async <T>(args: string): Promise<T> => {
      const r = await run(`agora ${args} -o json`);
      expect(r.code, `agora ${args}: ${r.err}`).toBe(0);
      return JSON.parse(r.out) as T;
    };
    const jobPhase = async (name: string): Promise<{ phase: string; runs: number }> => {
      const w = await agoraJson<{ status?: { phase?: string; runs?: number } }>(`get jobs ${name}`);
      return { phase: String(w.status?.phase ?? ''), runs: Number(w.status?.runs ?? 0) };
    };
    const jobSucceeded = (name: string, runs: number): Promise<void> =>
      eventually(async () => {
        const p = await jobPhase(name);
        expect(p.phase).toMatch(/SUCCEEDED/);
        expect(p.runs).toBeGreaterThanOrEqual(runs);
      }, { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 500, what: `job/${name} to succeed` });

    for (const step of steps) {
      if (step.kind === 'file') {
        writeFileSync(path.join(work, step.name), step.text);
        workload = step.workload;
        // A file no command of the tour names is applied where it stands (say, a Secret's).
        if (!commands.some((c) => c.text.includes(step.name))) {
          const r = await run(`agora apply -f ${step.name}`, undefined);
          expect(r.code, `agora apply -f ${step.name} (not named by any command): ${r.err}`).toBe(0);
        }
        continue;
      }
      let text = step.text.replace(/(localhost|127\.0\.0\.1):(5050|5051|5052)\b/g, (_, host: string, p: string) => `${host}:${ports[p]}`);
      if (/\bTASK_ID\b/.test(text)) text = text.replace(/\bTASK_ID\b/g, await taskOf(workload, agoraJson));
      const label = `README line ${step.line}: ${step.text}`;

      const runJob = /agora run job\/(\S+)/.exec(text)?.[1];
      if (runJob !== undefined) await jobSucceeded(runJob, 1); // "run a finished job again"

      const bounded = follows(text);
      const began = Date.now();
      const r = await run(text, bounded ? FOLLOW_FOR_MS : undefined);
      if (process.env['TOUR_TRACE']) console.log(`${Date.now() - began} ms  exit ${String(r.code)}  ${text}\n${r.out}${r.err}`);
      expect(r.code === 0 || (bounded && r.bounded), `${label}\nexit ${String(r.code)}\n${r.out}\n${r.err}`).toBe(true);
      if (bounded && /agora logs/.test(text)) expect(r.out, label).not.toBe('');

      // What the line promises, where it says it.
      const endpointsOf = /\/api\/v1\/services\/([\w-]+)\/endpoints(?!\S*watch)/.exec(text)?.[1];
      if (endpointsOf !== undefined) answers.set(endpointsOf, await endpointAnswers(r.out, label));
      const undone = /agora rollout undo service\/(\S+)/.exec(text)?.[1];
      if (undone !== undefined && answers.has(undone)) {
        const before = answers.get(undone) ?? [];
        await eventually(async () => {
          const now = await run(`curl -sf --cacert .agora/tls/ca.pem -H "authorization: Bearer $(cat .agora/admin-token)" ${up?.masterUrl ?? ''}/api/v1/services/${undone}/endpoints`);
          expect(new Set(await endpointAnswers(now.out, label))).toEqual(new Set(before));
        }, { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 500, what: `service/${undone} to answer as before the update after ${label}` });
      }
      const cronRun = /agora run cronjob\/(\S+)/.exec(text)?.[1];
      if (cronRun !== undefined) {
        const id = r.out.trim().split(/\s+/).at(-1) ?? '';
        await eventually(async () => {
          const w = await agoraJson<{ status?: { history?: { id: string; phase: string }[] } }>(`get cronjobs ${cronRun}`);
          expect(w.status?.history?.find((h) => h.id === id)?.phase, `run ${id}`).toMatch(/SUCCEEDED/);
        }, { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 500, what: `the run of cronjob/${cronRun} to succeed` });
      }
      if (runJob !== undefined) await jobSucceeded(runJob, 2);
    }
    // Every job the tour applied completes.
    for (const step of steps) if (step.kind === 'file' && /^kind:\s*Job\b/m.test(step.text) && step.workload) await jobSucceeded(step.workload, 1);
  });
});

/** PATH with an `agora` that is the built CLI; the `up` context's config; no other credentials. */
function shellEnv(work: string, upProcess: UpProcess): NodeJS.ProcessEnv {
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const quoted = [process.execPath, ...CLI].map((a) => `'${a}'`).join(' ');
  writeFileSync(path.join(bin, 'agora'), `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(path.join(bin, 'agora'), 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, AGORA_CONFIG: upProcess.config };
  for (const name of ['AGORA_TOKEN', 'AGORA_CA', 'AGORA_MASTER', 'AGORA_API', 'AGORA_CONTEXT']) delete env[name];
  return env;
}

function shell(text: string, cwd: string, env: NodeJS.ProcessEnv, boundMs?: number): Promise<Run> {
  const child = spawn('bash', ['-c', text], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let bounded = false;
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    bounded = boundMs !== undefined;
    killGroup();
  }, boundMs ?? COMMAND_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, bounded });
    });
  });
}

/** The id of a task of the workload the tour is about (a running one if there is one; -a: ended ones count). */
async function taskOf(workload: string | undefined, agoraJson: <T>(args: string) => Promise<T>): Promise<string> {
  const { items: tasks } = await agoraJson<{ items: { id: string; state: string; launchedAtMs: number }[] }>('get tasks -a');
  const mine = tasks.filter((t) => workload === undefined || t.id.startsWith(`${workload}.`)).sort((a, b) => b.launchedAtMs - a.launchedAtMs);
  const task = mine.find((t) => t.state === 'TASK_RUNNING') ?? mine[0];
  if (task === undefined) throw new Error(`TASK_ID: no task of ${workload ?? 'any workload'} to name`);
  return task.id;
}

/** What each endpoint of a service answers over HTTP (curl's output of GET …/endpoints). */
async function endpointAnswers(json: string, label: string): Promise<string[]> {
  const { endpoints } = JSON.parse(json) as { endpoints: { host: string; ip: string; ports: { number: number }[] }[] };
  expect(endpoints.length, `${label}: no endpoints`).toBeGreaterThan(0);
  return Promise.all(
    endpoints.map(async (e) => {
      const res = await fetch(`http://${e.ip || e.host}:${e.ports[0]?.number ?? 0}/`);
      expect(res.status, label).toBe(200);
      return (await res.text()).trim();
    }),
  );
}
