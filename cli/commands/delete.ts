// `agora delete KIND/NAME`: delete a service (its tasks are killed), a cron job or a job.
import type { Command } from 'commander';
import { namesOf } from '../../frameworks/api/kinds.js';
import { withClientFlags } from '../client.js';
import { clientFor, parseRef } from './shared.js';
import { objectPath, objectRef } from './objects.js';

export function registerDeleteCommand(program: Command): void {
  const cmd = program
    .command('delete')
    .description('delete a service, cron job or job (e.g. agora delete service/web)')
    .argument('<ref>', 'KIND/NAME, or KIND')
    .argument('[name]', 'NAME, when KIND is given alone');
  withClientFlags(cmd).action(async (first: string, second: string | undefined) => {
    const object = objectRef(first, second);
    if (object) {
      await clientFor(cmd).jobs('DELETE', objectPath(object.kind, object.name));
      process.stdout.write(`${object.label} deleted\n`);
      return;
    }
    const ref = parseRef(first, second);
    await clientFor(cmd).jobs('DELETE', `/api/v1/${namesOf(ref.kind).plural}/${encodeURIComponent(ref.name)}`);
    process.stdout.write(`${ref.label} deleted\n`);
  });
}
