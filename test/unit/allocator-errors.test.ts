// Bad input gets a typed error and leaves the allocator exactly as it was.
import { beforeEach, describe, expect, it } from 'vitest';
import { AgoraError, AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { Resources } from '../../core/resources.js';
import { createAllocator, type Allocator, type AllocatorOptions } from '../../master/allocator/index.js';

const P = (text: string): Resources => Resources.parse(text);

/** Everything the views show, as plain text, to compare before and after. */
function snapshot(a: Allocator): string {
  const agents = ['n', 'm', 'x'].map((id) => a.agent(id)).map((v) => v && { ...v, total: v.total.format(), allocated: v.allocated.format(), available: v.available.format() });
  const roles = a.roles().map((r) => ({ ...r, allocated: r.allocated.format(), quota: r.quota && r.quota.guarantee.format() }));
  const frameworks = a.frameworks().map((f) => ({ ...f, allocated: f.allocated.format() }));
  return JSON.stringify({ agents, roles, frameworks });
}

function expectError<T extends AgoraError>(type: new (...args: never[]) => T, fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(type);
  if (pattern) expect((caught as Error).message).toMatch(pattern);
}

let a: Allocator;
let before: string;

beforeEach(() => {
  a = createAllocator({ fairness: 'drf', seed: 1, minAllocatable: [] });
  a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:4;mem:40;ports:[1-10]') });
  a.addAgent({ id: 'm', hostname: 'm', total: P('cpus:4;mem:40') });
  a.addFramework({ id: 'f', roles: ['r', 's'] });
  a.setWeight('r', 2);
  a.setQuota('q', { guarantee: P('cpus:1') });
  a.allocate(0, ['n']); // f holds all of n under role r
  before = snapshot(a);
});

function unchanged(): void {
  expect(snapshot(a)).toBe(before);
  a.checkInvariants();
}

describe('options', () => {
  it('rejects bad options naming the field', () => {
    const base: AllocatorOptions = { fairness: 'drf', seed: 1, minAllocatable: [] };
    expectError(InvalidArgumentError, () => createAllocator({ ...base, fairness: 'fifo' as never }), /options.fairness/);
    expectError(InvalidArgumentError, () => createAllocator({ ...base, seed: 1.5 }), /options.seed/);
    expectError(InvalidArgumentError, () => createAllocator({ ...base, minAllocatable: ['cpus:1' as never] }), /minAllocatable\[0\]/);
  });
});

describe('agents', () => {
  it('rejects a duplicate, a malformed agent, and bad used resources', () => {
    expectError(AlreadyExistsError, () => a.addAgent({ id: 'n', hostname: 'n', total: P('cpus:1') }));
    expectError(InvalidArgumentError, () => a.addAgent({ id: '', hostname: 'x', total: P('cpus:1') }), /agent.id/);
    expectError(InvalidArgumentError, () => a.addAgent({ id: 'x', hostname: 'x', total: 'cpus:1' as never }), /agent.total/);
    const used = (over: object) => [{ frameworkId: 'f', agentId: 'x', role: 'r', resources: P('cpus:1'), ...over }];
    expectError(NotFoundError, () => a.addAgent({ id: 'x', hostname: 'x', total: P('cpus:1') }, used({ frameworkId: 'nope' })));
    expectError(InvalidArgumentError, () => a.addAgent({ id: 'x', hostname: 'x', total: P('cpus:1') }, used({ agentId: 'n' })), /used\[0\].agentId/);
    expectError(InvalidArgumentError, () => a.addAgent({ id: 'x', hostname: 'x', total: P('cpus:1') }, used({ resources: P('cpus:2') })), /used\[0\].resources/);
    expectError(InvalidArgumentError, () => a.addAgent({ id: 'x', hostname: 'x', total: P('cpus:1') }, used({ role: '' })), /used\[0\].role/);
    unchanged();
  });

  it('rejects unknown agents, a total below what is allocated, and a non-boolean', () => {
    expectError(NotFoundError, () => a.removeAgent('nope'));
    expectError(NotFoundError, () => a.setAgentActive('nope', false));
    expectError(NotFoundError, () => a.updateAgentTotal('nope', P('cpus:1')));
    expectError(InvalidArgumentError, () => a.updateAgentTotal('n', P('cpus:2;mem:40;ports:[1-10]')), /does not cover/);
    expectError(InvalidArgumentError, () => a.setAgentActive('n', 'no' as never));
    unchanged();
  });
});

describe('frameworks', () => {
  it('rejects malformed frameworks and bad used resources', () => {
    expectError(AlreadyExistsError, () => a.addFramework({ id: 'f', roles: ['r'] }));
    expectError(InvalidArgumentError, () => a.addFramework({ id: 'g', roles: [] }), /framework.roles/);
    expectError(InvalidArgumentError, () => a.addFramework({ id: 'g', roles: ['a b'] }), /invalid role/);
    expectError(InvalidArgumentError, () => a.addFramework({ id: 'g', roles: ['r', 'r'] }), /repeat/);
    expectError(InvalidArgumentError, () => a.addFramework({ id: 'g', roles: ['r'], suppressedRoles: ['s'] }), /suppressedRoles\[0\]/);
    expectError(NotFoundError, () => a.addFramework({ id: 'g', roles: ['r'] }, [{ frameworkId: 'g', agentId: 'nope', role: 'r', resources: P('cpus:1') }]));
    expectError(InvalidArgumentError, () =>
      a.addFramework({ id: 'g', roles: ['r'] }, [
        { frameworkId: 'g', agentId: 'm', role: 'r', resources: P('cpus:3') },
        { frameworkId: 'g', agentId: 'm', role: 'r', resources: P('cpus:3') },
      ]),
    /used\[1\].resources/);
    expectError(InvalidArgumentError, () => a.addFramework({ id: 'g', roles: ['r'] }, [{ frameworkId: 'h', agentId: 'm', role: 'r', resources: P('cpus:1') }]), /frameworkId/);
    expectError(NotFoundError, () => a.updateFramework({ id: 'nope', roles: ['r'] }));
    expectError(InvalidArgumentError, () => a.updateFramework({ id: 'f', roles: [] }));
    expectError(NotFoundError, () => a.removeFramework('nope'));
    expectError(NotFoundError, () => a.setFrameworkActive('nope', true));
    unchanged();
  });

  it('rejects suppress and revive of roles the framework does not have', () => {
    expectError(InvalidArgumentError, () => a.suppress('f', ['r', 'zz']), /roles\[1\]/);
    expectError(InvalidArgumentError, () => a.revive('f', ['zz']), /roles\[0\]/);
    expectError(NotFoundError, () => a.suppress('nope'));
    unchanged();
  });
});

describe('recover and allocateUsed', () => {
  it('rejects unknown ids, a wrong role and more than was allocated, changing nothing', () => {
    expectError(NotFoundError, () => a.recover('nope', 'n', 'r', P('cpus:1')));
    expectError(NotFoundError, () => a.recover('f', 'nope', 'r', P('cpus:1')));
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 's', P('cpus:1')), /holds nothing/);
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 'r', P('cpus:5')), /cannot recover/);
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 'r', P('cpus:1;ports:[11-11]')), /cannot recover/);
    expectError(InvalidArgumentError, () => a.recover('f', 'm', 'r', P('cpus:1')), /holds nothing/);
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 'r', 'cpus:1' as never), /resources/);
    unchanged();
  });

  it('rejects a bad filter before giving anything back', () => {
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 'r', P('cpus:1'), { refuseMs: -1, now: 0 }), /filter.refuseMs/);
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 'r', P('cpus:1'), { refuseMs: Infinity, now: 0 }), /filter.refuseMs/);
    expectError(InvalidArgumentError, () => a.recover('f', 'n', 'r', P('cpus:1'), { refuseMs: 5000, now: Number.NaN }), /filter.now/);
    unchanged();
  });

  it('rejects used resources beyond what is free', () => {
    expectError(InvalidArgumentError, () => a.allocateUsed({ frameworkId: 'f', agentId: 'n', role: 'r', resources: P('cpus:1') }), /more than is free/);
    expectError(NotFoundError, () => a.allocateUsed({ frameworkId: 'nope', agentId: 'm', role: 'r', resources: P('cpus:1') }));
    unchanged();
  });
});

describe('roles and passes', () => {
  it('rejects bad weights and roles', () => {
    for (const w of [-1, 0, Number.NaN, Infinity]) expectError(InvalidArgumentError, () => a.setWeight('r', w), /weight/);
    expectError(InvalidArgumentError, () => a.setWeight('', 1), /role/);
    unchanged();
  });

  it('rejects an unknown agent in an incremental pass before offering anything, and a bad now', () => {
    expectError(NotFoundError, () => a.allocate(1, ['m', 'nope']));
    expectError(InvalidArgumentError, () => a.allocate(Number.NaN), /now/);
    unchanged();
  });
});
