// The supervisor each process task runs under: one POSIX sh, as root, that outlives the agent and
// records how the task ended, so a restarted agent can report the real exit status.
//
//   sh -c WRAPPER agora-task <runtime-dir> <n> <cgroup.procs × n> [setpriv … --] <command...>
//
// The wrapper's own stdin, stdout and stderr are /dev/null. The command's output goes to
// <sandbox>/stdout and <sandbox>/stderr, opened by the command's own shell once it runs as the
// task's user (process.ts withOutput): a sandbox belongs to that user, and root must not open what
// the user may have put there. The output never flows through the agent, so the task keeps
// writing when the agent dies. The wrapper
// 1. joins the task's cgroups (writes its own pid to each cgroup.procs) before anything else, so
//    no task process ever runs outside its limits — no extra process, just the shell's echo;
// 2. traps TERM/INT/HUP with a no-op: the kill signal goes to the whole process group, and the
//    wrapper must stay to record the status. Caught traps reset to the default in the child, so
//    the command still dies of (or handles) the signal. The command runs in the foreground: a
//    background job of a non-interactive sh would ignore SIGINT, and a trapped signal does not
//    interrupt the shell's wait for a foreground command (the trap runs after it);
// 3. runs the command — behind setpriv (run-as.ts) unless the task runs as root — so the task is
//    its user's while the wrapper stays root, out of the task's reach (a user cannot signal or
//    ptrace a root process);
// 4. writes `$?` to <runtime-dir>/exit_status (0600: the task has ended, so the umask is the
//    wrapper's alone) and exits with it. The runtime dir is the agent's (the task's meta dir,
//    0700): a file in the sandbox could be a symlink the task planted. No tmp + mv: the file is
//    read only once the wrapper is gone, and the mv was an exec.
// Only SIGKILL (the end of the grace period, or the OOM killer) stops the wrapper from writing;
// the agent then writes the status itself when it is watching.
export const WRAPPER_SCRIPT = [
  'r=$1; n=$2; shift 2',
  'while [ "$n" -gt 0 ]; do',
  '  { echo $$ > "$1"; } 2>/dev/null || echo "agora: could not join cgroup $1; running without its limit" >>"$r/wrapper.log"',
  '  shift; n=$((n - 1))',
  'done',
  'trap : TERM INT HUP',
  '"$@"',
  'rc=$?',
  'umask 077',
  '[ -d "$r" ] || command -p mkdir -p "$r"',
  'printf \'%s\\n\' "$rc" > "$r/exit_status"',
  'exit "$rc"',
].join('\n');

export const WRAPPER_ARGV0 = 'agora-task';
export const SHELL = '/bin/sh';

/** The argv for spawn(SHELL, …): the wrapper script, its arguments, then the task's command. */
export function wrapperArgs(runtimeDir: string, procsFiles: readonly string[], command: readonly string[]): string[] {
  return ['-c', WRAPPER_SCRIPT, WRAPPER_ARGV0, runtimeDir, String(procsFiles.length), ...procsFiles, ...command];
}
