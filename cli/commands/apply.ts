// `agora apply -f FILE|DIR|-`: create or update what the documents describe (any kind; YAML or
// JSON; several documents separated by ---; a directory: every .yaml/.yml/.json in it, in name
// order; `-`: standard input; a `kind: List` as `get -o yaml` prints several), then, for a
// service, follow its deployment with a progress bar until it completes (exit 0) or fails
// (exit 1). Every document is parsed first, and with several, each is checked by the Jobs API
// (a dry run) before the first is applied, so one bad document applies nothing.
import type { Command } from 'commander';
import { AgoraError } from '../../core/errors.js';
import { parseDuration } from '../../core/options.js';
import type { ApplyResponse } from '../../proto/index.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import { withClientFlags, type AgoraClient } from '../client.js';
import { followDeployment } from './deployment-progress.js';
import { clientFor } from './shared.js';
import { readDocuments } from './spec-files.js';
import { documentName, isObjectKind, workloadSources, type WorkloadSource } from './workload-documents.js';

interface ApplyFlags {
  file: string;
  wait: boolean;
  dryRun?: boolean;
  timeout: string;
}

const VERBS = { CREATED: 'created', UPDATED: 'configured', UNCHANGED: 'unchanged' } as const;

export function registerApplyCommand(program: Command): void {
  const cmd = program
    .command('apply')
    .description('create or update services, cron jobs, jobs, secrets and configs from files (YAML or JSON)')
    .requiredOption('-f, --file <path>', 'a spec file, a directory of them (.yaml, .yml, .json), or - for standard input')
    .option('--no-wait', 'do not follow the deployment of a service')
    .option('--dry-run', 'validate and show what would happen; change nothing')
    .option('--timeout <duration>', 'how long to follow a deployment', '5m');
  withClientFlags(cmd).action(async (flags: ApplyFlags) => {
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const sources = await readWorkloads(flags.file);
    const client = clientFor(cmd);
    if (flags.dryRun) {
      for (const source of sources) print(await applyOne(client, source, true), true);
      return;
    }
    if (sources.length > 1) await Promise.all(checkable(sources).map((s) => applyOne(client, s, true)));
    for (const source of sources) {
      const res = await applyOne(client, source, false);
      print(res, false);
      if (res.kind === 'SERVICE' && res.deploymentId && flags.wait) {
        await followDeployment(client, res.name ?? '', res.deploymentId, { timeoutMs });
      }
    }
  });
}

/**
 * What a dry run can check before anything is applied: every document, unless the batch also makes
 * Secrets or Configs — a workload may reference one that does not exist until its document is
 * applied, so then only those are checked first (the workloads are checked as they are applied).
 */
function checkable(sources: readonly WorkloadSource[]): readonly WorkloadSource[] {
  return sources.some((s) => isObjectKind(s.kind)) ? sources.filter((s) => isObjectKind(s.kind)) : sources;
}

/** The workload documents of `-f` (parsed, kind and name checked), in order. */
export async function readWorkloads(file: string): Promise<WorkloadSource[]> {
  return workloadSources(await readDocuments(file, 'document'));
}

/** Apply one document (or check it, dryRun); a refusal names the file it came from. */
export async function applyOne(client: AgoraClient, source: WorkloadSource, dryRun: boolean): Promise<ApplyResponse> {
  try {
    return await client.jobs<ApplyResponse>('POST', `/api/v1/apply${dryRun ? '?dryRun=1' : ''}`, source.doc);
  } catch (err) {
    throw fromFile(err, source);
  }
}

/** The Jobs API's refusal, with its code and field, prefixed by the file (and document) it came from. */
export function fromFile(err: unknown, source: WorkloadSource): unknown {
  if (!(err instanceof AgoraError) || err.code === 'AGORA_UNAUTHENTICATED' || err.code === 'AGORA_UNAVAILABLE') return err;
  return new AgoraError(err.code, `${source.origin}: ${source.where}${err.message}`, { cause: err, details: err.details, ...(err.field === undefined ? {} : { field: err.field }) });
}

function print(res: ApplyResponse, dryRun: boolean): void {
  const object = isObjectKind(String(res.kind));
  const kind = documentName(res.kind as WorkloadKind).toLowerCase();
  const verb = VERBS[res.result as keyof typeof VERBS] ?? String(res.result);
  const label = `${kind}/${res.name ?? ''}`;
  process.stdout.write(`${label} ${verb}${dryRun ? ' (dry run)' : ''}${res.version ? ` (version ${res.version})` : ''}\n`);
  // A changed Secret or Config names the services it rolls: news, not a warning.
  if (object) for (const w of res.warnings ?? []) process.stdout.write(`  ${w}\n`);
  else for (const warning of res.warnings ?? []) process.stderr.write(`warning: ${label}: ${warning}\n`);
}
