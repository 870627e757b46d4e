// `agora exec` on the single-process cluster of `agora up`, as the tour shows it: into a service's
// task, with the admin token `agora up` wrote (it holds tasks.exec), the task running as nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startUpForCli, stopUpForCli, type UpProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';

let up: UpProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = await tempDir('exec-up');
  up = await startUpForCli(dataDir);
});

afterAll(async () => {
  await stopUpForCli(up, dataDir);
});

describe('agora exec on agora up', () => {
  it('runs a command in a service task as its user, with its environment, and passes its status back', async () => {
    const spec = ['kind: Service', 'name: sleeper', 'instances: 1', 'command: exec sleep 600', 'resources: { cpus: 0.1, mem: 32 }', 'env: { GREETING: hi }', ''].join('\n');
    const applied = await runCli(['apply', '-f', '-', '--master', up.masterUrl], { stdin: spec });
    expect(applied.code).toBe(0);
    const taskId = await eventually(
      async () => {
        const listed = await runCli(['get', 'tasks', '-o', 'json', '--master', up.masterUrl]);
        const running = (JSON.parse(listed.stdout) as { items: { id: string; state: string }[] }).items.find((t) => t.state === 'TASK_RUNNING' && t.id.startsWith('sleeper'));
        expect(running).toBeDefined();
        return running!.id;
      },
      { timeoutMs: 30_000 },
    );
    const out = await runCli(['exec', taskId, '--master', up.masterUrl, '--', 'sh', '-c', 'id -un; echo "$GREETING"; test "$PWD" = "$AGORA_SANDBOX" && echo in-sandbox; exit 3']);
    expect([out.code, out.stdout, out.stderr]).toEqual([3, 'nobody\nhi\nin-sandbox\n', '']);
  });
});
