// `agora completion bash|zsh`: a shell script that completes agora's verbs, flags, kinds and the
// names of what the cluster holds. The script asks the CLI itself: `agora __complete WORD… CURRENT`
// prints one candidate a line (main.ts runs it before commander parses anything, so the words are
// never taken for agora's own flags). Verbs, sub-verbs and flags come from the commander program;
// kinds from the tables below; names (services, cron jobs, jobs, agents, tasks, contexts) from the
// cluster, with the connection flags found among the words, within COMPLETE_TIMEOUT_MS — a
// cluster that does not answer completes nothing, and an error is never printed.
import type { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { AgoraClient, type ClientFlags } from '../client.js';
import { configPath, readConfigFile } from '../config-file.js';

const COMPLETE_TIMEOUT_MS = 3_000;

const WORKLOAD_KINDS = ['service/', 'cronjob/', 'job/'];
const OBJECT_KINDS = ['secret/', 'config/'];
const GET_KINDS = ['agents', 'frameworks', 'tasks', 'services', 'cronjobs', 'jobs', 'secrets', 'configs'];
/** The verbs whose first argument is KIND/NAME, and the kinds each takes. */
const REF_VERBS: Record<string, readonly string[]> = {
  describe: [...WORKLOAD_KINDS, ...OBJECT_KINDS, 'task/', 'agent/'],
  delete: [...WORKLOAD_KINDS, ...OBJECT_KINDS],
  scale: ['service/'],
  logs: WORKLOAD_KINDS,
  run: ['cronjob/', 'job/'],
  suspend: ['cronjob/'],
  resume: ['cronjob/'],
  status: ['service/'],
  history: ['service/'],
  undo: ['service/'],
  restart: ['service/'],
  promote: ['service/'],
  abort: ['service/'],
  drain: ['agent/'],
  undrain: ['agent/'],
  cordon: ['agent/'],
  uncordon: ['agent/'],
};
const OUTPUT_VALUES = ['json', 'yaml', 'wide'];
const CONNECTION_FLAGS = ['--master', '--api', '--token', '--ca', '--context'];

/** What the dynamic candidates are read from (a fake in unit tests). */
export interface NameSource {
  names(kind: string): Promise<string[]>;
  contexts(): string[];
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh): source <(agora completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(BASH);
      else if (shell === 'zsh') process.stdout.write(ZSH);
      else throw new InvalidArgumentError('shell', `expected bash or zsh, got '${shell}'`);
    });
}

/** `agora __complete WORD… CURRENT`: the candidates for CURRENT, one a line. Never fails. */
export async function runComplete(program: Command, words: readonly string[]): Promise<void> {
  try {
    const list = await candidates(program, words, clusterNames(words));
    if (list.length > 0) process.stdout.write(`${list.join('\n')}\n`);
  } catch {
    // completion prints nothing rather than an error in the middle of a command line
  }
}

/** The candidates for the last word, given the words before it. */
export async function candidates(program: Command, words: readonly string[], source: NameSource): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const { cmd, positionals } = walk(program, before);
  const starts = (list: readonly string[]): string[] => [...new Set(list)].filter((c) => c.startsWith(current));
  const previous = before.at(-1);
  const valueOf = previous === undefined ? undefined : findOption(cmd, previous);
  if (valueOf && (valueOf.required || valueOf.optional)) {
    if (valueOf.long === '--output') return starts(OUTPUT_VALUES);
    if (valueOf.long === '--context') return starts(source.contexts());
    if (valueOf.long === '--sort-by') return starts(['cpu', 'mem']);
    return [];
  }
  if (current.startsWith('-')) return starts(optionsOf(cmd));
  const subcommands = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden).map((c) => c.name());
  if (positionals.length === 0 && subcommands.length > 0) return starts(subcommands);
  const verb = cmd.name();
  if (verb === 'completion' && positionals.length === 0) return starts(['bash', 'zsh']);
  if (verb === 'exec' && positionals.length === 0) return starts(await source.names('task'));
  if ((verb === 'use-context' || verb === 'delete-context' || verb === 'set-context') && positionals.length === 0) return starts(source.contexts());
  if (verb === 'get') {
    if (positionals.length === 0) return starts(GET_KINDS);
    if (positionals.length === 1) return starts(await source.names(singular(positionals[0] ?? '')));
    return [];
  }
  const kinds = REF_VERBS[verb];
  if (kinds && positionals.length === 0) {
    const slash = current.indexOf('/');
    if (slash === -1) return starts(kinds);
    const kind = current.slice(0, slash);
    if (!kinds.includes(`${kind}/`)) return [];
    return starts((await source.names(kind)).map((name) => `${kind}/${name}`));
  }
  return [];
}

/** The (sub)command the words name, and the positional words given to it so far. */
function walk(program: Command, words: readonly string[]): { cmd: Command; positionals: string[] } {
  let cmd = program;
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (word.startsWith('-')) {
      const option = findOption(cmd, word);
      if (option && (option.required || option.optional) && !word.includes('=')) i += 1;
      continue;
    }
    const sub = positionals.length === 0 ? cmd.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub) cmd = sub;
    else positionals.push(word);
  }
  return { cmd, positionals };
}

function findOption(cmd: Command, flag: string): Option | undefined {
  const name = flag.split('=')[0];
  for (let c: Command | null = cmd; c; c = c.parent) {
    const found = c.options.find((o) => o.long === name || o.short === name);
    if (found) return found;
  }
  return undefined;
}

function optionsOf(cmd: Command): string[] {
  const flags: string[] = [];
  // A subcommand's own flags and its parents' (`top tasks` takes top's), not the program's -V.
  for (let c: Command | null = cmd; c && (c === cmd || c.parent); c = c.parent) for (const o of c.options) if (!o.hidden && o.long) flags.push(o.long);
  return [...flags, '--help'];
}

function singular(kind: string): string {
  const k = kind.toLowerCase();
  return k.endsWith('s') ? k.slice(0, -1) : k;
}

/** Names from the cluster these words' connection flags (or the environment, or the context) lead to. */
function clusterNames(words: readonly string[]): NameSource {
  const flags: Record<string, string | boolean> = {};
  words.forEach((w, i) => {
    if (CONNECTION_FLAGS.includes(w) && words[i + 1] !== undefined) flags[w.slice(2)] = words[i + 1] as string;
    if (w === '--insecure') flags['insecure'] = true;
  });
  const client = (): AgoraClient => AgoraClient.fromFlags(flags as ClientFlags);
  return {
    names: (kind) => within(COMPLETE_TIMEOUT_MS, namesOf(client(), kind)),
    contexts: () => Object.keys(readConfigFile(configPath()).contexts).sort(),
  };
}

async function namesOf(client: AgoraClient, kind: string): Promise<string[]> {
  if (kind === 'agent') return (await client.master<{ agents: { id: string }[] }>('/api/v1/agents')).agents.map((a) => a.id);
  if (kind === 'task') return (await client.master<{ tasks: { id: string }[] }>('/api/v1/tasks?active=1&limit=1000')).tasks.map((t) => t.id);
  if (kind === 'framework') return (await client.master<{ frameworks: { name: string }[] }>('/api/v1/frameworks')).frameworks.map((f) => f.name);
  const plural = { service: 'services', cronjob: 'cronjobs', job: 'jobs', secret: 'secrets', config: 'configs' }[kind];
  if (!plural) return [];
  return (await client.jobs<{ items: { name: string }[] }>('GET', `/api/v1/${plural}`)).items.map((w) => w.name);
}

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('completion: the cluster did not answer in time')), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const BASH = `# agora completion for bash. Load it with: source <(agora completion bash)
# (or save it as /etc/bash_completion.d/agora). Names come from the cluster: agora __complete.
_agora_complete() {
  local IFS=$'\\n'
  local out
  out=$(agora __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  COMPREPLY=($out)
  # KIND/ ends a word only halfway: no space after it, so the name can follow.
  if [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == */ ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -F _agora_complete agora
`;

const ZSH = `#compdef agora
# agora completion for zsh. Load it with: source <(agora completion zsh)
# (or save it as _agora in a directory of $fpath). Names come from the cluster: agora __complete.
_agora() {
  local -a all slash plain
  all=("\${(@f)$(agora __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  all=(\${all:#})
  slash=(\${(M)all:#*/})
  plain=(\${all:#*/})
  (( \${#slash} )) && compadd -Q -S '' -- "\${slash[@]}"
  (( \${#plain} )) && compadd -Q -- "\${plain[@]}"
  return 0
}
if (( $+functions[compdef] )); then
  compdef _agora agora
fi
`;
