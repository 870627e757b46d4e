// `agora scale service/NAME N`: change a service's instance count (a deployment without a new
// version); `--wait` follows it like apply does.
import type { Command } from 'commander';
import { parseDuration } from '../../core/options.js';
import type { DeploymentResponse } from '../../proto/index.js';
import { withClientFlags } from '../client.js';
import { followDeployment } from './deployment-progress.js';
import { clientFor, count, parseRef } from './shared.js';

export function registerScaleCommand(program: Command): void {
  const cmd = program
    .command('scale')
    .description('set the number of instances of a service (e.g. agora scale service/web 5)')
    .argument('<ref>', 'service/NAME')
    .argument('<instances>', 'the new instance count')
    .option('--wait', 'follow the deployment until it completes')
    .option('--timeout <duration>', 'how long to follow it', '5m');
  withClientFlags(cmd).action(async (refText: string, instancesText: string, flags: { wait?: boolean; timeout: string }) => {
    const ref = parseRef(refText, undefined, 'SERVICE');
    const instances = count(instancesText, 'instances');
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const client = clientFor(cmd);
    const res = await client.jobs<DeploymentResponse>('POST', `/api/v1/services/${encodeURIComponent(ref.name)}/scale`, { instances });
    process.stdout.write(`${ref.label} scaled to ${instances}${res.deploymentId ? ` (deployment ${res.deploymentId})` : ''}\n`);
    if (flags.wait && res.deploymentId) await followDeployment(client, ref.name, res.deploymentId, { timeoutMs });
  });
}
