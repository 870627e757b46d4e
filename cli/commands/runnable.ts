// `agora run cronjob/NAME` (or job/NAME): start a run now and print its id; `agora suspend` and
// `agora resume` stop and restart a cron job's schedule (or a job's tasks).
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { namesOf } from '../../frameworks/api/kinds.js';
import { withClientFlags } from '../client.js';
import { clientFor, parseRef, type WorkloadRef } from './shared.js';

export function registerRunnableCommands(program: Command): void {
  const run = program
    .command('run')
    .description('start a run of a cron job (or a job) now and print its id (e.g. agora run cronjob/nightly)')
    .argument('<ref>', 'cronjob/NAME or job/NAME');
  withClientFlags(run).action(async (refText: string) => {
    const ref = runnableRef(refText);
    const res = await clientFor(run).jobs<{ runId?: string }>('POST', `${base(ref)}/trigger`);
    process.stdout.write(`${res.runId ?? ''}\n`);
  });
  for (const [name, suspend] of [['suspend', true], ['resume', false]] as const) {
    const cmd = program
      .command(name)
      .description(suspend ? 'stop starting runs of a cron job (or a job) until resumed' : 'start runs of a suspended cron job (or job) again')
      .argument('<ref>', 'cronjob/NAME or job/NAME');
    withClientFlags(cmd).action(async (refText: string) => {
      const ref = runnableRef(refText);
      await clientFor(cmd).jobs('POST', `${base(ref)}/${name}`, suspend ? { suspend: true } : {});
      process.stdout.write(`${ref.label} ${suspend ? 'suspended' : 'resumed'}\n`);
    });
  }
}

function runnableRef(text: string): WorkloadRef {
  const ref = parseRef(text);
  if (ref.kind === 'SERVICE') throw new InvalidArgumentError('KIND/NAME', 'takes a cron job or a job (e.g. cronjob/nightly), not a service');
  return ref;
}

function base(ref: WorkloadRef): string {
  return `/api/v1/${namesOf(ref.kind).plural}/${encodeURIComponent(ref.name)}`;
}
