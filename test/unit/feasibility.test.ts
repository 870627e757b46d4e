// frameworks/api/feasibility.ts: a spec no agent could ever take is named at apply — the field as
// the YAML spells it, and the largest agent — and a spec some agent could take says nothing.
import { describe, expect, it } from 'vitest';
import { agentCapacity, feasibilityWarnings, portCount } from '../../frameworks/api/feasibility.js';

const small = agentCapacity({ hostname: 'a1', attributes: { rack: 'r1' }, resources: { total: { cpus: 2, mem: 2048, disk: 1024, gpus: 0, ports: '31000-31001' } } });
const big = agentCapacity({ hostname: 'a2', attributes: { rack: 'r2', zone: 'b' }, resources: { total: { cpus: 8, mem: 16384, disk: 0, gpus: 1, ports: '31000-31009,32000' } } });
const task = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ command: 'c', resources: { cpus: 1, mem: 64 }, ...extra });

describe('feasibility at apply', () => {
  it('counts port ranges', () => {
    expect(portCount('31000-31009,32000')).toBe(11);
    expect(portCount('')).toBe(0);
  });

  it('says nothing of a spec some agent could take, or when no agent is known', () => {
    expect(feasibilityWarnings('SERVICE', task({ ports: [{ name: 'a' }, { name: 'b' }], constraints: [{ field: 'rack', operator: 'IS', value: 'r1' }] }), [small, big])).toEqual([]);
    expect(feasibilityWarnings('JOB', { task: task({ resources: { cpus: 64, mem: 1 } }) }, [])).toEqual([]);
  });

  it('names each resource no agent has enough of, with the largest agent', () => {
    const warnings = feasibilityWarnings('JOB', { task: task({ resources: { cpus: 64, mem: 1e9, gpus: 1 } }) }, [small, big]);
    expect(warnings).toEqual([
      'task.resources.cpus: 64 is more than any agent has (the largest, a2, has 8); its tasks stay pending until one that has joins',
      'task.resources.mem: 1000000000 MiB is more than any agent has (the largest, a2, has 16384 MiB); its tasks stay pending until one that has joins',
    ]);
  });

  it('names the ports asked for beyond any agent', () => {
    const ports = Array.from({ length: 12 }, (_, i) => ({ name: `p${i}` }));
    expect(feasibilityWarnings('SERVICE', task({ ports }), [small, big])).toEqual(['ports: 12 ports are more than any agent offers (the most, a2, has 11); its instances stay pending until one that has joins']);
  });

  it('names the constraint that matches no agent, and lists the agents', () => {
    const [one] = feasibilityWarnings('CRONJOB', { task: task({ constraints: [{ field: 'rack', operator: 'IS', value: 'r9' }] }) }, [small, big]);
    expect(one).toBe('task.constraints[0]: no agent matches (2 agents: a1 rack=r1; a2 rack=r2,zone=b); its tasks stay pending until one that has joins');
    // Each passes on some agent, but no agent passes both.
    const both = feasibilityWarnings('SERVICE', task({ constraints: [{ field: 'rack', operator: 'IS', value: 'r1' }, { field: 'zone', operator: 'LIKE', value: 'b' }] }), [small, big]);
    expect(both).toHaveLength(1);
    expect(both[0]).toMatch(/^constraints: no agent matches/);
    // Constraints that depend on other tasks are not judged here.
    expect(feasibilityWarnings('SERVICE', task({ constraints: [{ field: 'hostname', operator: 'UNIQUE' }] }), [small])).toEqual([]);
    // Judged as placement judges them: a field no agent has fails UNIQUE, MAX_PER, GROUP_BY and
    // CLUSTER alike, and `HOSTNAME` is an attribute, not the hostname.
    for (const operator of ['UNIQUE', 'CLUSTER', 'GROUP_BY']) {
      expect(feasibilityWarnings('SERVICE', task({ constraints: [{ field: 'gpu_model', operator }] }), [small, big]), operator).toHaveLength(1);
    }
    expect(feasibilityWarnings('SERVICE', task({ constraints: [{ field: 'HOSTNAME', operator: 'IS', value: 'a1' }] }), [small, big])).toHaveLength(1);
  });
});
