// `agora apply` of a spec no agent of the cluster could ever take: accepted (agents may join
// later, as Kubernetes leaves such a pod Pending), with a warning on stderr naming the field as the
// YAML spells it and the largest agent; the job then says why it waits. A spec that fits: no warning.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killProcessesUnder, runCli, startUpProcess, stopCliProcesses, type UpProcess } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { eventually } from '../support/waits.js';

let up: UpProcess;
let dir: string;

beforeAll(async () => {
  dir = await tempDir('apply-feasibility');
  up = await startUpProcess(path.join(dir, 'data'), 30_000, 'cpus:2;mem:1024;disk:256', 2);
});

afterAll(async () => {
  up.kill('SIGTERM');
  await up.exited;
  await stopCliProcesses();
  await killProcessesUnder(path.join(dir, 'data'));
});

async function apply(name: string, yaml: string, ...flags: string[]): Promise<Awaited<ReturnType<typeof runCli>>> {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return runCli(['apply', '-f', file, '--master', up.masterUrl, ...flags]);
}

describe('apply warns of what no agent could take', () => {
  it('a job asking for more cpus than any agent has: applied, warned, and pending with the reason', async () => {
    const r = await apply('huge', 'kind: Job\nname: huge\ntask: { command: "true", resources: { cpus: 64, mem: 16 } }\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('job/huge created');
    expect(r.stderr).toContain('warning: job/huge: task.resources.cpus: 64 is more than any agent has (the largest, 127.0.0.1, has 2); its tasks stay pending until one that has joins');
    await eventually(async () => {
      const described = await runCli(['describe', 'job/huge', '--master', up.masterUrl]);
      expect(described.stdout).toMatch(/Pending:\s+insufficient cpus: need 64, largest offer has 2/);
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'the pending reason' });
  });

  it('a service with more ports and a constraint no agent matches: warned for each', async () => {
    const r = await apply('placed', 'kind: Service\nname: placed\ninstances: 1\ncommand: exec sleep 60\nresources: { cpus: 0.1, mem: 16 }\nports: [{ name: a }, { name: b }, { name: c }]\nconstraints: [{ field: rack, operator: IS, value: r9 }]\n', '--no-wait');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: service/placed: ports: 3 ports are more than any agent offers (the most, 127.0.0.1, has 2)');
    expect(r.stderr).toContain('warning: service/placed: constraints[0]: no agent matches (1 agent: 127.0.0.1 (no attributes))');
  });

  it('a spec that fits: no warning', async () => {
    const r = await apply('fits', 'kind: Job\nname: fits\ntask: { command: "true", resources: { cpus: 1, mem: 16 } }\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
  });
});
