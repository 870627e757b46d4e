// `agora config`: the contexts of the CLI's config file (cli/config-file.ts), as `kubectl config`.
//
//   config get-contexts [-o json|yaml]      every context; tokens are never printed
//   config current-context                  the current context's name
//   config use-context NAME
//   config set-context NAME [--master URL] [--api URL] [--token-file F] [--ca F] [--[no-]insecure]
//   config delete-context NAME
//
// set-context creates a context (--master is then required) or changes the fields given of an
// existing one; an empty value removes a field. The first context becomes the current one.
import path from 'node:path';
import type { Command } from 'commander';
import { AgoraError, InvalidArgumentError } from '../../core/errors.js';
import { configPath, deleteContext, readConfigFile, useContext, validateContextName, writeContext, checkUrl, type ConfigFile, type ContextConfig } from '../config-file.js';
import { table } from '../table.js';
import { printStructured, structured } from './shared.js';

interface SetContextFlags {
  master?: string;
  api?: string;
  tokenFile?: string;
  ca?: string;
  insecure?: boolean;
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description(`the CLI's contexts: which cluster to talk to and with which credentials (${'$AGORA_CONFIG'} or ~/.agora/config.yaml)`);

  config
    .command('get-contexts')
    .description('list the contexts (tokens are never printed)')
    .option('-o, --output <format>', 'json or yaml')
    .action((flags: { output?: string }) => {
      const format = structured(flags.output);
      const file = readConfigFile(configPath());
      if (format) return printStructured(format, { currentContext: file.currentContext ?? null, contexts: Object.fromEntries(Object.entries(file.contexts).map(([n, c]) => [n, redacted(c)])) });
      const names = Object.keys(file.contexts).sort();
      process.stdout.write(names.length === 0 ? `No contexts in ${file.path}.\n` : contextsTable(file));
    });

  config
    .command('current-context')
    .description('print the name of the current context')
    .action(() => {
      const file = readConfigFile(configPath());
      if (file.currentContext === undefined) throw new AgoraError('AGORA_NOT_FOUND', `no current context in ${file.path} (choose one with \`agora config use-context NAME\`)`);
      process.stdout.write(`${file.currentContext}\n`);
    });

  config
    .command('use-context')
    .description('make NAME the current context')
    .argument('<name>', 'a context')
    .action(async (name: string) => {
      await useContext(name, configPath());
      process.stdout.write(`Switched to context "${name}".\n`);
    });

  config
    .command('set-context')
    .description('create a context, or change the given fields of one (an empty value removes a field)')
    .argument('<name>', 'the context')
    .option('--master <url>', "the master's HTTP address (required for a new context)")
    .option('--api <url>', 'the Jobs API address, when it is not to be found through the master')
    .option('--token-file <file>', 'a file holding the bearer token (kept as a path, read at each use)')
    .option('--ca <file>', 'the cluster CA certificate, PEM')
    .option('--insecure', 'plain http and no token (a cluster started with --insecure)')
    .option('--no-insecure', 'TLS and tokens again')
    .action(async (name: string, flags: SetContextFlags) => {
      validateContextName(name);
      const file = configPath();
      const config = readConfigFile(file);
      const existing = config.contexts[name];
      const next = mergeContext(existing, flags);
      const makeCurrent = config.currentContext === undefined;
      await writeContext(name, next, { file, makeCurrent });
      process.stdout.write(`Context "${name}" ${existing ? 'modified' : 'created'} in ${file}.${makeCurrent ? ' It is the current context.' : ''}\n`);
    });

  config
    .command('delete-context')
    .description('remove a context')
    .argument('<name>', 'the context')
    .action(async (name: string) => {
      const file = configPath();
      await deleteContext(name, file);
      process.stdout.write(`Deleted context "${name}" from ${file}.\n`);
    });
}

/** The context after set-context's flags: given fields replace, empty ones remove. */
export function mergeContext(existing: ContextConfig | undefined, flags: SetContextFlags): ContextConfig {
  const master = flags.master ?? existing?.master;
  if (master === undefined || master === '') throw new InvalidArgumentError('--master', 'is required for a new context');
  checkUrl(master, (why) => new InvalidArgumentError('--master', why));
  if (flags.api) checkUrl(flags.api, (why) => new InvalidArgumentError('--api', why));
  const pick = (given: string | undefined, had: string | undefined, resolve: boolean): string | undefined => {
    if (given === undefined) return had;
    if (given === '') return undefined;
    return resolve ? path.resolve(given) : given;
  };
  const tokenFile = pick(flags.tokenFile, existing?.tokenFile, true);
  // A token file given now replaces a token kept in the file.
  const token = flags.tokenFile === undefined ? existing?.token : undefined;
  const api = pick(flags.api, existing?.api, false);
  const ca = pick(flags.ca, existing?.ca, true);
  const insecure = flags.insecure ?? existing?.insecure;
  return {
    master,
    ...(api === undefined ? {} : { api }),
    ...(token === undefined ? {} : { token }),
    ...(tokenFile === undefined ? {} : { tokenFile }),
    ...(ca === undefined ? {} : { ca }),
    ...(insecure ? { insecure: true } : {}),
  };
}

/** A context as printed: the token replaced by `(token)`. */
function redacted(c: ContextConfig): Record<string, unknown> {
  const { token, ...rest } = c;
  return token === undefined ? rest : { ...rest, token: '(token)' };
}

function credentialText(c: ContextConfig): string {
  if (c.insecure) return '(insecure)';
  if (c.token !== undefined) return '(token)';
  return c.tokenFile ?? '';
}

function contextsTable(file: ConfigFile): string {
  const names = Object.keys(file.contexts).sort();
  return table(
    ['current', 'name', 'master', 'api', 'token', 'ca'],
    names.map((n) => {
      const c = file.contexts[n] as ContextConfig;
      // A blank, not the table's `<none>`: only the current context is marked, as kubectl does.
      return [n === file.currentContext ? '*' : ' ', n, c.master, c.api, credentialText(c), c.ca];
    }),
  );
}
