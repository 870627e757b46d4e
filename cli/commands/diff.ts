// `agora diff -f FILE|DIR|-`: what `apply -f` would change, as `kubectl diff`: a unified diff per
// workload of the live spec (as `get -o yaml` prints it, without status) against the document's
// as the framework would store it (normalized-spec.ts: defaults filled in, the same spelling),
// both with keys in order and unset fields left out. Whether a workload would change is the Jobs
// API's answer to a dry-run apply, not the text. Exit 0: no change; 1: changes; >1: error.
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { stringify as toYaml } from 'yaml';
import { AgoraError } from '../../core/errors.js';
import { namesOf } from '../../frameworks/api/kinds.js';
import type { Workload } from '../../proto/index.js';
import { withClientFlags, type AgoraClient } from '../client.js';
import { ExitCode } from '../errors.js';
import { applyOne, fromFile, readWorkloads } from './apply.js';
import { normalizedDocument } from './normalized-spec.js';
import { clientFor } from './shared.js';
import { isObjectKind, specPart, workloadDocument, type WorkloadSource } from './workload-documents.js';

export function registerDiffCommand(program: Command): void {
  const cmd = program
    .command('diff')
    .description('show what apply -f would change: a unified diff of the live spec against the file (exit 1 when they differ)')
    .requiredOption('-f, --file <path>', 'a spec file, a directory of them, or - for standard input');
  withClientFlags(cmd).action(async (flags: { file: string }) => {
    const sources = await readWorkloads(flags.file);
    const client = clientFor(cmd);
    let changed = false;
    for (const source of sources) {
      const res = await applyOne(client, source, true);
      if (res.result === 'UNCHANGED') continue;
      changed = true;
      // A Secret's or Config's values are not printed: only that it would change.
      if (isObjectKind(source.kind)) {
        process.stdout.write(`${source.label}: would be ${res.result === 'CREATED' ? 'created' : 'changed'} (values not shown)\n`);
        continue;
      }
      process.stdout.write(patch(source, await live(client, source)));
    }
    if (changed) throw new ExitCode(1);
  });
}

/** The live workload's spec document, or undefined when it does not exist yet. */
async function live(client: AgoraClient, source: WorkloadSource): Promise<Workload | undefined> {
  try {
    if (isObjectKind(source.kind)) return undefined;
    return await client.jobs<Workload>('GET', `/api/v1/${namesOf(source.kind).plural}/${encodeURIComponent(source.name)}`);
  } catch (err) {
    if (err instanceof AgoraError && err.code === 'AGORA_NOT_FOUND') return undefined;
    throw fromFile(err, source);
  }
}

/** The unified diff of one workload: live (empty when new) → as applied. */
export function patch(source: WorkloadSource, current: Workload | undefined): string {
  const before = current ? toYaml(specPart(workloadDocument(current))) : '';
  const after = toYaml(specPart(normalizedDocument(source.doc)));
  return createTwoFilesPatch(`live/${source.label}`, `applied/${source.label}`, before, after, undefined, source.origin, { context: 3 });
}
