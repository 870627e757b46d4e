// Tests that start `agora` as a child process run the built CLI (dist/): it starts in a fraction
// of the time `tsx` needs, which matters when a test starts five processes on a two-core machine.
// The global setup rebuilds dist/ first when any source is newer than it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(REPO, 'dist', 'cli', 'main.js');
const SOURCES = ['proto', 'core', 'master', 'agent', 'sdk', 'frameworks', 'cli'];

/** argv (after the node executable) that runs the `agora` command. */
export function agoraArgv(...args: string[]): string[] {
  return [ENTRY, ...args];
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.proto')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Rebuild dist/ when it is missing or older than a source file. Returns true if it built. */
export function ensureFreshBuild(): boolean {
  const built = existsSync(ENTRY) ? statSync(ENTRY).mtimeMs : 0;
  const newest = Math.max(...SOURCES.map((d) => newestSource(join(REPO, d))));
  if (built >= newest) return false;
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, stdio: 'inherit' });
  return true;
}
