// `agora tls`, as `consul tls` and `nomad tls`: a cluster CA and the certificates it signs
// (core/security/pki.ts), written as PEM files — keys 0600, never over an existing file unless
// --force.
//
//   tls ca create [--dir DIR] [--name NAME] [--days N]                     → ca.pem, ca-key.pem
//   tls cert create (--server | --client | --both) --name NAME [--host H …] [--policy P …]
//                   [--ca FILE] [--ca-key FILE] [--dir DIR] [--days N]      → NAME.pem, NAME-key.pem
//
// A client certificate's CN is its principal and each --policy an OU (agents: --policy agent);
// a server's --host values are its SANs (DNS names and IP addresses).
import { chmod, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { FailedPreconditionError, InvalidArgumentError } from '../../core/errors.js';
import type { CertificateUsage, PemPair } from '../../core/security/pki.js';

interface CaFlags {
  dir: string;
  name?: string;
  days?: string;
  force?: boolean;
}

interface CertFlags {
  server?: boolean;
  client?: boolean;
  both?: boolean;
  name: string;
  host?: string[];
  policy?: string[];
  ca?: string;
  caKey?: string;
  dir: string;
  days?: string;
  force?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** pki.ts names its inputs; here they are flags. */
const FLAG_OF: Record<string, string> = { name: '--name', hosts: '--host', policies: '--policy', days: '--days', ca: '--ca', 'ca-key': '--ca-key' };

export function registerTlsCommand(program: Command): void {
  const tls = program.command('tls').description('make a cluster CA and the server and client certificates it signs');

  tls
    .command('ca')
    .description('the cluster certificate authority')
    .command('create')
    .description('create a CA: ca.pem (give it to every server and client) and ca-key.pem (keep it secret)')
    .option('--dir <dir>', 'where to write the files', '.')
    .option('--name <name>', "the CA's common name (default: Agora CA)")
    .option('--days <n>', 'how long it is valid (default: 3650)')
    .option('--force', 'overwrite existing files')
    .action(async (flags: CaFlags) => {
      const days = daysOf(flags.days);
      const files = { cert: path.join(flags.dir, 'ca.pem'), key: path.join(flags.dir, 'ca-key.pem') };
      await refuseOverwrite(files, flags.force);
      const { createCa } = await pki();
      const ca = await named(() => createCa({ ...(flags.name === undefined ? {} : { name: flags.name }), ...(days === undefined ? {} : { days }) }));
      await writePair(flags.dir, files, ca, flags.force);
      process.stdout.write(`wrote ${files.cert} (the CA certificate: servers and clients trust it)\nwrote ${files.key} (the CA key, mode 0600: it signs certificates; keep it secret)\n`);
    });

  tls
    .command('cert')
    .description('server and client certificates')
    .command('create')
    .description('create a certificate signed by the CA: NAME.pem and NAME-key.pem')
    .option('--server', 'a server certificate (needs --host)')
    .option('--client', 'a client certificate: CN is the principal, each --policy an OU')
    .option('--both', 'a certificate for both (an agent serves HTTP and calls the master)')
    .requiredOption('--name <name>', "the principal (CN), and the files' name")
    .option('--host <host>', 'a DNS name or IP address the server answers on (repeat for more)', collect)
    .option('--policy <policy>', 'a policy a client holds, e.g. agent or admin (repeat for more)', collect)
    .option('--ca <file>', 'the CA certificate (default: ca.pem in --dir)')
    .option('--ca-key <file>', "the CA's key (default: ca-key.pem in --dir)")
    .option('--dir <dir>', 'where to write the files (and find the CA)', '.')
    .option('--days <n>', "how long it is valid (default: 825, at most the CA's life)")
    .option('--force', 'overwrite existing files')
    .action(async (flags: CertFlags) => {
      const usage = usageOf(flags);
      const hosts = flags.host ?? [];
      const policies = flags.policy ?? [];
      if (usage === 'server' && policies.length > 0) throw new InvalidArgumentError('--policy', 'only client certificates hold policies (use --client or --both)');
      const days = daysOf(flags.days);
      const ca = await readCa(flags.ca ?? path.join(flags.dir, 'ca.pem'), flags.caKey ?? path.join(flags.dir, 'ca-key.pem'));
      const files = { cert: path.join(flags.dir, `${flags.name}.pem`), key: path.join(flags.dir, `${flags.name}-key.pem`) };
      const { createCertificate } = await pki();
      const pair = await named(() => createCertificate({ ca, name: flags.name, usage, hosts, policies, ...(days === undefined ? {} : { days }) }));
      await refuseOverwrite(files, flags.force);
      await writePair(flags.dir, files, pair, flags.force);
      const what = [
        usage === 'client' ? 'client' : usage === 'server' ? 'server' : 'server and client',
        hosts.length ? `for ${hosts.join(', ')}` : '',
        usage === 'server' ? '' : `principal ${flags.name}${policies.length ? `, policies ${policies.join(', ')}` : ', no policies'}`,
      ].filter(Boolean);
      process.stdout.write(`wrote ${files.cert} (${what.join('; ')})\nwrote ${files.key} (its private key, mode 0600)\n`);
    });
}

/** pki.ts (with @peculiar/x509) is loaded only by these commands, not by every `agora` run. */
function pki(): Promise<typeof import('../../core/security/pki.js')> {
  return import('../../core/security/pki.js');
}

function usageOf(flags: CertFlags): CertificateUsage {
  const chosen = (['server', 'client', 'both'] as const).filter((u) => flags[u]);
  if (chosen.length !== 1) throw new InvalidArgumentError('--server', `choose exactly one of --server, --client or --both${chosen.length ? ` (got ${chosen.map((u) => `--${u}`).join(' ')})` : ''}`);
  return chosen[0] as CertificateUsage;
}

function daysOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InvalidArgumentError('--days', `expected a positive number of days, got '${text}'`);
  return Number(text);
}

/** Run a pki.ts call; its errors name its inputs (`hosts[1]`), which become the flags. */
async function named<T>(make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    if (!(err instanceof InvalidArgumentError) || err.field === undefined) throw err;
    const flag = FLAG_OF[err.field.replace(/\[\d+\]$/, '')];
    if (flag === undefined) throw err;
    throw new InvalidArgumentError(flag, err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message);
  }
}

async function readCa(certFile: string, keyFile: string): Promise<PemPair> {
  const read = async (file: string, flag: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(flag, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (make a CA with \`agora tls ca create\`)`);
    }
  };
  return { certPem: await read(certFile, '--ca'), keyPem: await read(keyFile, '--ca-key') };
}

async function refuseOverwrite(files: { cert: string; key: string }, force: boolean | undefined): Promise<void> {
  if (force) return;
  for (const file of [files.cert, files.key]) {
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (exists) throw new FailedPreconditionError(`${file} already exists: not overwriting it (pass --force to replace it)`);
  }
}

/** The certificate (0644) and its key (0600), each created anew. */
async function writePair(dir: string, files: { cert: string; key: string }, pair: PemPair, force: boolean | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeNew(files.key, pair.keyPem, 0o600, force);
  await writeNew(files.cert, pair.certPem, 0o644, force);
}

async function writeNew(file: string, text: string, mode: number, force: boolean | undefined): Promise<void> {
  // Unlinking first means an old file's looser mode is not inherited.
  if (force) await unlink(file).catch(() => undefined);
  try {
    await writeFile(file, text, { mode, flag: 'wx' });
    await chmod(file, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new FailedPreconditionError(`${file} already exists: not overwriting it (pass --force to replace it)`);
    throw new FailedPreconditionError(`cannot write ${file}: ${code ?? (err as Error).message}`);
  }
}
