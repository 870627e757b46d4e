// The supervisor each process task runs under: one POSIX sh that outlives the agent and records
// how the task ended in the sandbox, so a restarted agent can report the real exit status.
//
//   sh -c WRAPPER agora-task <sandbox> <n> <cgroup.procs × n> <command...>
//
// 1. joins the task's cgroups (writes its own pid to each cgroup.procs) before anything else, so
//    no task process ever runs outside its limits — no extra process, just the shell's echo;
// 2. appends its stdout and stderr to <sandbox>/stdout and <sandbox>/stderr. Opening them here
//    rather than in the agent keeps two file creations (≈2 ms each on a slow disk) off the
//    agent's launch path; either way the output never flows through the agent, so the task keeps
//    writing when the agent dies;
// 3. traps TERM/INT/HUP with a no-op: the kill signal goes to the whole process group, and the
//    wrapper must stay to record the status. Caught traps reset to the default in the child, so
//    the command still dies of (or handles) the signal. The command runs in the foreground: a
//    background job of a non-interactive sh would ignore SIGINT, and a trapped signal does not
//    interrupt the shell's wait for a foreground command (the trap runs after it);
// 4. writes `$?` to <sandbox>/.agora/exit_status atomically (tmp + mv; `command -p` so the task's
//    PATH cannot hide mkdir or mv; both run only at the end) and exits with it.
// Only SIGKILL (the end of the grace period, or the OOM killer) stops the wrapper from writing;
// the agent then writes the status itself when it is watching.
export const WRAPPER_SCRIPT = [
  's=$1; n=$2; shift 2',
  'while [ "$n" -gt 0 ]; do',
  '  { echo $$ > "$1"; } 2>/dev/null || echo "agora: could not join cgroup $1; running without its limit" >&2',
  '  shift; n=$((n - 1))',
  'done',
  'exec >>"$s/stdout" 2>>"$s/stderr"',
  'trap : TERM INT HUP',
  '"$@"',
  'rc=$?',
  'd="$s/.agora"',
  '[ -d "$d" ] || command -p mkdir -p "$d"',
  'printf \'%s\\n\' "$rc" > "$d/exit_status.tmp" && command -p mv -f "$d/exit_status.tmp" "$d/exit_status"',
  'exit "$rc"',
].join('\n');

export const WRAPPER_ARGV0 = 'agora-task';
export const SHELL = '/bin/sh';

/** The argv for spawn(SHELL, …): the wrapper script, its arguments, then the task's command. */
export function wrapperArgs(sandbox: string, procsFiles: readonly string[], command: readonly string[]): string[] {
  return ['-c', WRAPPER_SCRIPT, WRAPPER_ARGV0, sandbox, String(procsFiles.length), ...procsFiles, ...command];
}
