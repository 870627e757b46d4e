// `agora --help` in groups, as kubectl's: the verbs people use every day first, the servers last.
// A command this table does not name is listed under "Other Commands:" (its description still shows).
import type { Command } from 'commander';

const GROUPS: readonly (readonly [string, readonly string[]])[] = [
  ['Workload Commands:', ['apply', 'diff', 'get', 'describe', 'explain', 'delete', 'logs', 'exec', 'run', 'suspend', 'resume']],
  ['Deploy Commands:', ['scale', 'rollout']],
  ['Cluster Management Commands:', ['top', 'cordon', 'uncordon', 'drain', 'undrain']],
  ['Settings Commands:', ['config', 'acl', 'tls', 'completion', 'version']],
  ['Run a Cluster:', ['up', 'master', 'agent', 'frameworks']],
];

export const OTHER_GROUP = 'Other Commands:';

/** The help heading of a top-level command. */
export function groupOf(name: string): string {
  return GROUPS.find(([, names]) => names.includes(name))?.[0] ?? OTHER_GROUP;
}

/** Put every top-level command under its heading, the groups in the table's order. */
export function groupCommands(program: Command): void {
  const order = (c: Command): number => {
    const g = GROUPS.findIndex(([, names]) => names.includes(c.name()));
    const i = g === -1 ? GROUPS.length : g;
    return i * 1000 + (g === -1 ? 0 : (GROUPS[g]?.[1].indexOf(c.name()) ?? 0));
  };
  // commander lists groups in the order their first command appears: sort the commands first.
  const commands = program.commands as Command[];
  const sorted = [...commands].sort((a, b) => order(a) - order(b));
  commands.splice(0, commands.length, ...sorted);
  for (const c of commands) c.helpGroup(groupOf(c.name()));
}
