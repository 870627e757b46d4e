// The process tree of an exec, read from /proc: a child's children are found, and killTree ends them all.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parentPid } from '../../agent/executors/proc.js';
import { descendants, killTree } from '../../agent/process-tree.js';
import { eventually } from '../support/master-harness.js';

describe('process tree', () => {
  it('reads a parent id, finds a grandchild, and kills the whole tree', async () => {
    const child = spawn('sh', ['-c', 'sh -c "sleep 6071" & wait'], { stdio: 'ignore' });
    const root = child.pid as number;
    expect(parentPid(root)).toBe(process.pid);
    await eventually(() => expect(descendants(root)).toHaveLength(2));
    const [inner] = descendants(root);
    expect(parentPid(inner as number)).toBe(root);
    const closed = new Promise((resolve) => child.once('close', resolve));
    expect(killTree(root)).toBe(3);
    await closed;
    await eventually(() => expect(descendants(root)).toEqual([]));
  });

  it('has no parent id for a pid that is not running', () => {
    expect(parentPid(2 ** 30)).toBeUndefined();
  });
});
