// `agora exec` into a process task: the command runs as the task runs — in its sandbox, as its
// user, with its environment, in its cgroup — the way the process executor starts the task itself
// (executors/wrapper.ts), under a smaller wrapper:
//
//   sh -c JOIN agora-exec <n> <cgroup.procs × n> [setpriv … --] [script -q -e -c "…" /dev/null] command…
//
// JOIN writes its own pid into each of the task's cgroup.procs files (v1: one per controller, v2:
// one) and execs the rest, so nothing the exec starts runs outside the task's limits; it exits 126
// rather than run outside them. With a terminal (-t), util-linux `script` gives the command a
// pseudo-terminal (no native pty module needed): script runs as the task's user, so the pty is the
// user's; the initial size is set by the command's own `stty` before it execs, and a resize is an
// `stty -F /dev/pts/N` — as the user, on the pty found from script's child's stdin — after which the
// kernel sends SIGWINCH to the terminal's foreground process group.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { ExitFrame, TerminalSize } from '../core/exec-protocol.js';
import type { Logger } from '../core/logger.js';
import type { ExecProcess, ExecRequest } from './exec-backend.js';
import type { ContainerSpec } from './executor.js';
import { attachCgroup } from './executors/cgroups.js';
import type { CgroupRef } from './executors/cgroup-types.js';
import { signalNumber } from './executors/exit-status.js';
import { DEFAULT_PATH } from './executors/process.js';
import { SHELL } from './executors/wrapper.js';
import { descendants, killTree } from './process-tree.js';
import { runAsPrefix, runAsUnavailable } from './run-as.js';

export const SCRIPT = '/usr/bin/script';
const STTY = '/bin/stty';

export const JOIN_SCRIPT = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  '  echo $$ > "$1" || { echo "agora: cannot join the task\'s cgroup $1" >&2; exit 126; }',
  '  shift; n=$((n - 1))',
  'done',
  'exec "$@"',
].join('\n');

/** A POSIX-shell word for `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The argv (after SHELL) that runs `req.command` in the task's cgroup, as its user, under a pty when asked. */
export function execArgv(req: ExecRequest, procsFiles: readonly string[], runAs: readonly string[]): string[] {
  let command = [...req.command];
  if (req.tty) {
    const size = req.size ? `${STTY} rows ${req.size.rows} cols ${req.size.cols} 2>/dev/null; ` : '';
    command = [SCRIPT, '-q', '-e', '-c', `${size}exec ${command.map(shellQuote).join(' ')}`, '/dev/null'];
  }
  return ['-c', JOIN_SCRIPT, 'agora-exec', String(procsFiles.length), ...procsFiles, ...runAs, ...command];
}

/** The cgroup.procs files of the task's cgroup (none when it runs without one). */
export function taskProcsFiles(checkpoint: Readonly<Record<string, unknown>> | undefined): string[] {
  const ref = checkpoint?.['cgroup'] as CgroupRef | undefined;
  if (!ref || (ref.version !== 1 && ref.version !== 2) || typeof ref.paths !== 'object') return [];
  return [...attachCgroup(ref).procsFiles];
}

export function startProcessExec(spec: ContainerSpec, checkpoint: Readonly<Record<string, unknown>> | undefined, req: ExecRequest, log: Logger): ExecProcess {
  const runAs = runAsPrefix(spec.user);
  const cannot = runAs.length > 0 ? runAsUnavailable() : undefined;
  if (cannot) throw new Error(cannot);
  if (req.tty && !fs.existsSync(SCRIPT)) throw new Error(`${SCRIPT} (util-linux) is missing: no terminal can be given (apt-get install bsdutils)`);
  const env: Record<string, string> = { PATH: DEFAULT_PATH, ...spec.env };
  if (req.tty) env['TERM'] = req.term ?? 'xterm';
  const child = spawn(SHELL, execArgv(req, taskProcsFiles(checkpoint), runAs), {
    cwd: spec.sandbox,
    env,
    detached: true,
    stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', req.tty ? 'ignore' : 'pipe'],
  });
  const exited = new Promise<ExitFrame>((resolve) => {
    child.once('error', (err) => {
      log.warn({ err }, 'exec command could not start');
      resolve({ exitCode: 126 });
    });
    child.once('close', (code, signal) => resolve(signal ? { exitCode: 128 + (signalNumber(signal) ?? 0), signal } : { exitCode: code ?? 1 }));
  });
  let pts: string | undefined;
  const resize = (size: TerminalSize): void => {
    if (!req.tty || child.pid === undefined) return;
    pts ??= ptySlave(child.pid);
    if (!pts) return;
    const [file, ...args] = [...runAs, STTY, '-F', pts, 'rows', String(size.rows), 'cols', String(size.cols)];
    execFile(file as string, args, { timeout: 5000 }, (err) => {
      if (err) log.debug({ err, pts }, 'could not resize the exec terminal');
    });
  };
  return {
    stdin: child.stdin ?? undefined,
    stdout: child.stdout as NonNullable<typeof child.stdout>,
    stderr: child.stderr ?? undefined,
    resize,
    exited,
    kill: () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killTree(child.pid);
    },
  };
}

/**
 * The terminal (/dev/pts/N) a process under `scriptPid` (util-linux `script`) has as stdin, or
 * undefined when none has one (yet).
 */
export function ptySlave(scriptPid: number): string | undefined {
  for (const pid of descendants(scriptPid)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/0`);
      if (/^\/dev\/pts\/\d+$/.test(target)) return target;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}
