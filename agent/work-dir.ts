// The modes of the agent's work dir. Tasks run as their own users, so each must reach its sandbox
// and nothing else:
//
//   /  …  <parent>/       o+x, checked at start: else no task user could reach its sandbox
//   <work-dir>/           0711  search, not list
//     frameworks/<fw>/tasks/             0711
//       <task>/           0700  the task's user (checkpoint.ts chowns it)
//     meta/               0700  the agent's alone: journals, agent.json, framework.json (0600)
//
// Search without read on the parents: a user who knows a path gets through, a user who lists a
// directory sees nothing, so one task cannot enumerate (and so target) another's sandbox.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FailedPreconditionError } from '../core/errors.js';

export const TRAVERSE_MODE = 0o711;
export const SANDBOX_MODE = 0o700;
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** The work dir created (0711) with meta/ (0700); fails when task users could not reach it. */
export async function prepareWorkDir(workDir: string, metaDir: string): Promise<void> {
  await fs.mkdir(workDir, { recursive: true });
  await fs.chmod(workDir, TRAVERSE_MODE);
  await assertReachable(workDir);
  await fs.mkdir(metaDir, { recursive: true, mode: PRIVATE_DIR });
  await fs.chmod(metaDir, PRIVATE_DIR);
}

/** Every directory from below `base` down to `dir` created, each 0711 (mkdir's mode is cut by the umask). */
export async function traversableDirs(base: string, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: TRAVERSE_MODE });
  for (let d = dir; d !== base && d.startsWith(base + path.sep); d = path.dirname(d)) await fs.chmod(d, TRAVERSE_MODE);
}

/** Throws, naming the directory and the fix, when a parent of the work dir has no o+x. */
async function assertReachable(workDir: string): Promise<void> {
  for (let dir = path.dirname(workDir); ; dir = path.dirname(dir)) {
    const mode = (await fs.stat(dir)).mode & 0o777;
    if ((mode & 0o001) === 0) {
      throw new FailedPreconditionError(
        `the work dir ${workDir} is out of reach of task users: ${dir} has mode ${mode.toString(8).padStart(4, '0')}, ` +
          `without search permission for others (o+x), and tasks run as their own users must pass through it to their sandboxes; ` +
          `run chmod o+x ${dir}, or choose a --work-dir whose every parent is searchable (e.g. under /var/lib)`,
        { field: '--work-dir', details: { workDir, directory: dir, mode } },
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}
