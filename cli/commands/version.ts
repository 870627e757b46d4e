// `agora version [--client] [-o json|yaml]`: this CLI's version, the master's (its /version: any
// authenticated caller, as Kubernetes' /version) and the Jobs API's when it is served by another
// process. `--client` asks nothing (it works with no cluster). The client's version is printed
// before the servers are asked, so an unreachable cluster still shows it (and then fails).
import type { Command } from 'commander';
import { VERSION } from '../../core/version.js';
import { withClientFlags, type AgoraClient } from '../client.js';
import { clientFor, printStructured, structured } from './shared.js';

export interface VersionReport {
  client: { version: string };
  master?: { version: string; url: string };
  /** The Jobs API: its version, or the same process as the master, or why it could not be read. */
  jobsApi?: { version?: string; url: string; sameAsMaster?: boolean; error?: string };
}

export function registerVersionCommand(program: Command): void {
  const cmd = program
    .command('version')
    .description("print the client's version and the cluster's (master, Jobs API)")
    .option('--client', "only the client's version (asks no server)")
    .option('-o, --output <format>', 'json or yaml');
  withClientFlags(cmd).action(async (flags: { client?: boolean; output?: string }) => {
    const format = structured(flags.output);
    const report: VersionReport = { client: { version: VERSION } };
    if (flags.client) return print(format, report);
    if (!format) process.stdout.write(`Client Version: ${VERSION}\n`);
    const servers = await serverVersions(clientFor(cmd));
    Object.assign(report, servers);
    if (format) return printStructured(format, report);
    process.stdout.write(serverLines(servers));
  });
}

function print(format: 'json' | 'yaml' | undefined, report: VersionReport): void {
  if (format) printStructured(format, report);
  else process.stdout.write(`Client Version: ${report.client.version}\n`);
}

async function serverVersions(client: AgoraClient): Promise<Omit<VersionReport, 'client'>> {
  const master = { version: (await client.master<{ version: string }>('/version')).version, url: client.masterUrl };
  let url = client.masterUrl;
  try {
    url = await client.jobsUrl();
    if (url === client.masterUrl) return { master, jobsApi: { version: master.version, url, sameAsMaster: true } };
    return { master, jobsApi: { version: (await client.jobs<{ version: string }>('GET', '/version')).version, url } };
  } catch (err) {
    return { master, jobsApi: { url, error: (err as Error).message.split('\n')[0] ?? 'unreachable' } };
  }
}

function serverLines(s: Omit<VersionReport, 'client'>): string {
  const jobs = s.jobsApi;
  const jobsLine = !jobs ? '' : jobs.error ? `Jobs API Version: unknown (${jobs.url}: ${jobs.error})\n` : `Jobs API Version: ${jobs.version ?? ''} (${jobs.sameAsMaster ? 'served by the master' : jobs.url})\n`;
  return `Master Version: ${s.master?.version ?? ''} (${s.master?.url ?? ''})\n${jobsLine}`;
}
