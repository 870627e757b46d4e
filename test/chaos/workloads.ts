// The chaos run's workloads, submitted through the Jobs API's HTTP mirror, and the marks their
// tasks leave in a directory the tasks (running as nobody) may write:
//
//   hb/<taskId>.<version>   a service instance touches it every 250 ms once it is ready: fresh = available
//   batch.ledger            "<index> <taskId>" appended when an index's command completes
//   cron.ledger             "<scheduled time> <taskId>" appended when a run's command completes
//
// The ledgers are the ground truth the frameworks' records are checked against: a key in a ledger
// twice is a batch index or cron slot that ran to completion twice.
import fs from 'node:fs';
import path from 'node:path';
import { NOBODY } from '../support/users.js';
import { callAny } from './api.js';
import { sleep } from './supervisor.js';

export const SERVICE = 'web';
export const CRONJOB = 'tick';
export const JOB = 'crunch';
/** Each batch index's command takes this long; with BATCH_PARALLELISM it paces the job. */
export const BATCH_TASK_SECONDS = 3;
export const BATCH_PARALLELISM = 3;
export const MINIMUM_HEALTH_CAPACITY = 0.75;
/** A heartbeat older than this is an instance that is not available. */
export const HEARTBEAT_FRESH_MS = 1_500;

export class Marks {
  readonly heartbeats: string;
  readonly batchLedger: string;
  readonly cronLedger: string;

  constructor(readonly dir: string) {
    this.heartbeats = path.join(dir, 'hb');
    this.batchLedger = path.join(dir, 'batch.ledger');
    this.cronLedger = path.join(dir, 'cron.ledger');
    fs.mkdirSync(this.heartbeats, { recursive: true });
    for (const d of [dir, this.heartbeats]) fs.chownSync(d, NOBODY.uid, NOBODY.gid);
    for (const f of [this.batchLedger, this.cronLedger]) {
      fs.writeFileSync(f, '');
      fs.chownSync(f, NOBODY.uid, NOBODY.gid);
    }
  }

  /** Fresh heartbeats by version: { v2: 3, v3: 1 }. */
  available(now = Date.now()): Map<string, number> {
    const counts = new Map<string, number>();
    for (const name of safeReaddir(this.heartbeats)) {
      let mtime: number;
      try {
        mtime = fs.statSync(path.join(this.heartbeats, name)).mtimeMs;
      } catch {
        continue;
      }
      if (now - mtime > HEARTBEAT_FRESH_MS) continue;
      const version = name.slice(name.lastIndexOf('.') + 1);
      counts.set(version, (counts.get(version) ?? 0) + 1);
    }
    return counts;
  }

  read(ledger: string): string {
    return fs.readFileSync(ledger, 'utf8');
  }
}

export function serviceSpec(marks: Marks, instances: number, colour: string): string {
  const beat = `while :; do touch ${marks.heartbeats}/$AGORA_TASK_ID.$AGORA_SERVICE_VERSION; sleep 0.25; done`;
  return [
    'kind: Service',
    `name: ${SERVICE}`,
    `instances: ${instances}`,
    `env: { COLOUR: ${colour} }`,
    `command: 'sleep 1 && touch ready && ${beat}'`,
    'resources: { cpus: 0.05, mem: 16 }',
    'healthCheck: { type: COMMAND, command: { value: "test -f ready" }, delaySeconds: 0, intervalSeconds: 0.5, gracePeriodSeconds: 10, consecutiveFailures: 3 }',
    `upgradeStrategy: { minimumHealthCapacity: ${MINIMUM_HEALTH_CAPACITY}, maximumOverCapacity: 0.25 }`,
    'killGracePeriodSeconds: 0.5',
    '',
  ].join('\n');
}

export function cronSpec(marks: Marks): string {
  return [
    'kind: CronJob',
    `name: ${CRONJOB}`,
    'schedule: "*/5 * * * * *"',
    'concurrencyPolicy: Forbid',
    'successfulJobsHistoryLimit: 100',
    'failedJobsHistoryLimit: 100',
    `task: { command: 'sleep 1 && echo "$AGORA_SCHEDULED_TIME $AGORA_TASK_ID" >> ${marks.cronLedger}', resources: { cpus: 0.05, mem: 16 }, killGracePeriodSeconds: 0.5 }`,
    '',
  ].join('\n');
}

export function jobSpec(marks: Marks, completions: number): string {
  return [
    'kind: Job',
    `name: ${JOB}`,
    `completions: ${completions}`,
    `parallelism: ${BATCH_PARALLELISM}`,
    'completionMode: Indexed',
    // Retries are what a lost task costs; the chaos must not exhaust them before the job ends.
    'backoffLimit: 1000',
    `task: { command: 'sleep ${BATCH_TASK_SECONDS} && echo "$AGORA_TASK_INDEX $AGORA_TASK_ID" >> ${marks.batchLedger}', resources: { cpus: 0.1, mem: 16 }, killGracePeriodSeconds: 0.5 }`,
    '',
  ].join('\n');
}

/** Applies `spec` through whichever frameworks process answers, retrying until `timeoutMs`; returns the version. */
export async function apply(frameworks: () => readonly (string | undefined)[], plural: string, spec: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await callAny(frameworks(), `/api/v1/${plural}`, { method: 'POST', body: spec, timeoutMs: 5_000 });
    const version = (answer?.body as { version?: string } | undefined)?.version;
    if (version) return version;
    if (Date.now() > deadline) throw new Error(`could not apply ${plural} within ${timeoutMs} ms`);
    await sleep(500);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
