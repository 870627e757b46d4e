// `agora delete KIND/NAME` or `agora delete -f FILE|DIR|-`: delete a service (its tasks are
// killed), a cron job, a job, a secret or a config — by reference, or every workload the documents name (only their
// kind and name are read, so a file that `apply -f` took deletes what it made).
import type { Command } from 'commander';
import { AgoraError, InvalidArgumentError } from '../../core/errors.js';
import { namesOf } from '../../frameworks/api/kinds.js';
import type { ObjectKind } from '../../frameworks/objects/spec.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import { withClientFlags } from '../client.js';
import { readWorkloads } from './apply.js';
import { objectPath, objectRef } from './objects.js';
import { clientFor, parseRef } from './shared.js';
import { isObjectKind } from './workload-documents.js';

interface DeleteFlags {
  file?: string;
  ignoreNotFound?: boolean;
}

export function registerDeleteCommand(program: Command): void {
  const cmd = program
    .command('delete')
    .description('delete services, cron jobs, jobs, secrets or configs (agora delete service/web, or -f FILE|DIR|-)')
    .argument('[ref]', 'KIND/NAME, or KIND')
    .argument('[name]', 'NAME, when KIND is given alone')
    .option('-f, --file <path>', 'delete what these documents name: a file, a directory of them, or - for standard input')
    .option('--ignore-not-found', 'a workload that does not exist is not an error');
  withClientFlags(cmd).action(async (first: string | undefined, second: string | undefined, flags: DeleteFlags) => {
    if ((first === undefined) === (flags.file === undefined)) throw new InvalidArgumentError('KIND/NAME', 'give KIND/NAME or -f FILE, not both, nor neither');
    const targets: { kind: WorkloadKind | ObjectKind; name: string; label: string }[] =
      flags.file === undefined ? [objectRef(first ?? '', second) ?? parseRef(first ?? '', second)] : await readWorkloads(flags.file);
    const client = clientFor(cmd);
    let missing: AgoraError | undefined;
    for (const t of targets) {
      try {
        await client.jobs('DELETE', isObjectKind(t.kind) ? objectPath(t.kind, t.name) : `/api/v1/${namesOf(t.kind).plural}/${encodeURIComponent(t.name)}`);
        process.stdout.write(`${t.label} deleted\n`);
      } catch (err) {
        // As kubectl: a missing one does not stop the others; the command still fails at the end.
        if (!(err instanceof AgoraError && err.code === 'AGORA_NOT_FOUND')) throw err;
        if (flags.ignoreNotFound) continue;
        if (targets.length === 1) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        missing = err;
      }
    }
    if (missing) throw new AgoraError('AGORA_NOT_FOUND', `${targets.length > 1 ? 'some of the workloads named were' : 'the workload was'} not found`);
  });
}
