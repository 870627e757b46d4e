// `agora apply -f FILE`: create or update what the file describes (any kind; YAML or JSON; several
// documents separated by ---), then, for a service, follow its deployment with a progress bar
// until it completes (exit 0) or fails (exit 1). `-f -` reads standard input.
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { InvalidArgumentError } from '../../core/errors.js';
import { parseDuration } from '../../core/options.js';
import { namesOf } from '../../frameworks/api/kinds.js';
import { objectNames } from '../../frameworks/objects/spec.js';
import type { ApplyResponse } from '../../proto/index.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import { withClientFlags } from '../client.js';
import { followDeployment } from './deployment-progress.js';
import { clientFor, readSource } from './shared.js';

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
    .description('create or update services, cron jobs and jobs from a file (YAML or JSON)')
    .requiredOption('-f, --file <file>', 'the spec file; - reads standard input')
    .option('--no-wait', 'do not follow the deployment of a service')
    .option('--dry-run', 'validate and show what would happen; change nothing')
    .option('--timeout <duration>', 'how long to follow a deployment', '5m');
  withClientFlags(cmd).action(async (flags: ApplyFlags) => {
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const client = clientFor(cmd);
    const documents = splitDocuments(await readSource(flags.file), flags.file);
    for (const text of documents) {
      const query = flags.dryRun ? '?dryRun=1' : '';
      const res = await client.jobs<ApplyResponse>('POST', `/api/v1/apply${query}`, text, { contentType: 'application/yaml' });
      const object = res.kind === 'SECRET' || res.kind === 'CONFIG' ? objectNames(res.kind) : undefined;
      const kind = (object ?? namesOf(res.kind as WorkloadKind)).document.toLowerCase();
      const label = `${kind}/${res.name ?? ''}`;
      process.stdout.write(`${label} ${VERBS[res.result as keyof typeof VERBS] ?? String(res.result)}${flags.dryRun ? ' (dry run)' : ''}${res.version ? ` (version ${res.version})` : ''}\n`);
      // A changed Secret or Config names the services it rolls: news, not a warning.
      if (object) for (const w of res.warnings ?? []) process.stdout.write(`  ${w}\n`);
      else for (const warning of res.warnings ?? []) process.stderr.write(`warning: ${label}: ${warning}\n`);
      if (res.kind === 'SERVICE' && res.deploymentId && flags.wait && !flags.dryRun) {
        await followDeployment(client, res.name ?? '', res.deploymentId, { timeoutMs });
      }
    }
  });
}

/** One text per YAML document (a file may hold several, separated by ---). */
function splitDocuments(text: string, file: string): string[] {
  if (text.trim() === '') throw new InvalidArgumentError('-f', `${file === '-' ? 'standard input' : file} is empty`);
  const docs = parseAllDocuments(text);
  // With a syntax error, send it whole: the API names the line.
  if (!Array.isArray(docs) || docs.length <= 1 || docs.some((d) => d.errors.length > 0)) return [text];
  return docs.filter((d) => d.contents !== null).map((d) => d.toString());
}
