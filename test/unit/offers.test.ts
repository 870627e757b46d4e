import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/errors.js';
import { thrown } from '../support/thrown.js';
import { Resources } from '../../core/resources.js';
import { attributesToWire, resourcesFromWire, resourcesToWire } from '../../core/wire.js';
import type { Offer__Output } from '../../proto/index.js';
import type { AgentFacts, ConstraintInput } from '../../sdk/constraints.js';
import { IDLE_REFUSE_SECONDS, PENDING_REFUSE_SECONDS, declineFilter, declinePolicy } from '../../sdk/decline.js';
import { matchOffers, type MatchOptions, type MatchResult, type PendingTask, type PortRequest } from '../../sdk/offers.js';

interface OfferSpec {
  agent?: string;
  host?: string;
  attrs?: Record<string, string>;
  role?: string;
}

let seq = 0;
function offer(id: string, resources: string, spec: OfferSpec = {}): Offer__Output {
  seq++;
  const agentId = spec.agent ?? `agent-${id}`;
  return {
    id,
    frameworkId: 'fw',
    agentId,
    hostname: spec.host ?? agentId,
    resources: resourcesToWire(Resources.parse(resources)),
    attributes: attributesToWire(spec.attrs ?? {}),
    agentHttpAddress: '',
    allocationRole: spec.role ?? '',
    unavailability: null,
    domain: null,
  } as unknown as Offer__Output;
}

interface Task extends PendingTask {
  readonly id: string;
}
function task(id: string, resources: string, more: Partial<Omit<Task, 'id' | 'resources'>> = {}): Task {
  return { id, resources, ...more };
}
function tasks(n: number, resources: string, more: Partial<Omit<Task, 'id' | 'resources'>> = {}, prefix = 't'): Task[] {
  return Array.from({ length: n }, (_, i) => task(`${prefix}${i + 1}`, resources, more));
}

/** The plan as plain text: agent → task ids with their resources and ports. */
function plan(result: MatchResult<Task>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of result.launches) out[l.hostname] = l.tasks.map((t) => t.task.id);
  return out;
}
function reasons(result: MatchResult<Task>, id: string): string[] {
  const u = result.unplaced.find((x) => x.task.id === id);
  if (u === undefined) throw new Error(`task ${id} was placed`);
  return u.reasons.map((r) => `${r.hostname}: ${r.reason}`);
}

describe('matchOffers: packing', () => {
  it('packs 3 small tasks into one offer and declines the untouched one', () => {
    const result = matchOffers([offer('o1', 'cpus:4;mem:4096', { host: 'a1' }), offer('o2', 'cpus:4;mem:4096', { host: 'a2' })], tasks(3, 'cpus:1;mem:512'));
    expect(plan(result)).toEqual({ a1: ['t1', 't2', 't3'] });
    expect(result.launches[0]!.offerIds).toEqual(['o1']);
    expect(result.launches[0]!.resources.format()).toBe('cpus:3;mem:1536');
    expect(result.launches[0]!.tasks.map((t) => t.resources.format())).toEqual(['cpus:1;mem:512', 'cpus:1;mem:512', 'cpus:1;mem:512']);
    expect(result.unplaced).toEqual([]);
    expect(result.declined).toEqual(['o2']);
  });

  it('splits across agents when one is not enough, and says why the rest did not fit', () => {
    const result = matchOffers([offer('o1', 'cpus:2;mem:1024', { host: 'a1' }), offer('o2', 'cpus:2;mem:1024', { host: 'a2' })], tasks(3, 'cpus:1.5;mem:256'));
    expect(plan(result)).toEqual({ a1: ['t1'], a2: ['t2'] });
    expect(reasons(result, 't3')).toEqual(['a1: insufficient cpus: need 1.5, offer has 0.5', 'a2: insufficient cpus: need 1.5, offer has 0.5']);
    expect(result.declined).toEqual([]);
  });

  it('merges several offers of one agent (per allocation role) and accepts them together', () => {
    const offers = [
      offer('o1', 'cpus:1;mem:512', { agent: 'ag1', host: 'a1' }),
      offer('o2', 'cpus:1;mem:512', { agent: 'ag2', host: 'a2' }),
      offer('o3', 'cpus:1;mem:512', { agent: 'ag1', host: 'a1' }),
      offer('o4', 'cpus:8;mem:8192', { agent: 'ag1', host: 'a1', role: 'other' }),
    ];
    const result = matchOffers(offers, [task('big', 'cpus:2;mem:1024', { role: '*' })]);
    expect(result.launches.map((l) => [l.agentId, l.offerIds])).toEqual([['ag1', ['o1', 'o3']]]);
    expect(result.declined).toEqual(['o2', 'o4']);
  });

  it('honours the roles of the offers: a task with a role only takes offers allocated to it', () => {
    const offers = [offer('o1', 'cpus:8;mem:8192', { host: 'a1', role: 'dev' }), offer('o2', 'cpus:1;mem:128', { host: 'a2', role: 'prod' })];
    const result = matchOffers(offers, [task('t1', 'cpus:2;mem:256', { role: 'prod' })]);
    expect(reasons(result, 't1')).toEqual(['a1: offered to role dev, the task runs as prod', 'a2: insufficient cpus: need 2, offer has 1']);
  });
});

describe('matchOffers: reservations', () => {
  it('uses what is reserved for the role first, then unreserved', () => {
    const o = offer('o1', 'cpus:2;mem:1024;cpus(prod):1;mem(prod):256;disk(other):100', { role: 'prod' });
    const result = matchOffers([o], [task('t1', 'cpus:1.5;mem:512'), task('t2', 'cpus:1;mem:512')]);
    const [t1, t2] = result.launches[0]!.tasks;
    expect(t1!.resources.format()).toBe('cpus:0.5;mem:256;cpus(prod):1;mem(prod):256');
    expect(t2!.resources.format()).toBe('cpus:1;mem:512');
    // The sum is within the offer, roles kept, and nothing reserved for another role was touched.
    expect(resourcesFromWire(o.resources).contains(result.launches[0]!.resources)).toBe(true);
  });

  it('uses reservations of an ancestor role, deepest first, and never another role', () => {
    const o = offer('o1', 'cpus:1;cpus(eng):1;cpus(eng/web):1;cpus(ops):4', { role: 'eng/web' });
    const result = matchOffers([o], [task('t1', 'cpus:2.5')]);
    expect(result.launches[0]!.tasks[0]!.resources.format()).toBe('cpus:0.5;cpus(eng):1;cpus(eng/web):1');
    const more = matchOffers([o], [task('t1', 'cpus:3.5')]);
    expect(reasons(more, 't1')).toEqual(['agent-o1: insufficient cpus: need 3.5, offer has 3']);
  });
});

describe('matchOffers: ports', () => {
  it('assigns the lowest free ports, never the same one twice on an agent', () => {
    const offers = [offer('o1', 'cpus:4;ports:[31000-31004]', { host: 'a1' }), offer('o2', 'cpus:4;ports:[31000-31001]', { host: 'a2' })];
    const result = matchOffers(offers, tasks(4, 'cpus:0.1', { ports: 2 }));
    expect(result.launches.flatMap((l) => l.tasks.map((t) => `${l.hostname}:${t.task.id}:${t.ports.join(',')}`))).toEqual([
      'a1:t1:31000,31001',
      'a1:t2:31002,31003',
      'a2:t3:31000,31001', // the same numbers on another agent are fine
    ]);
    expect(result.launches[0]!.tasks[1]!.resources.format()).toBe('cpus:0.1;ports:[31002-31003]');
    expect(reasons(result, 't4')).toEqual(['a1: insufficient ports: need 2, offer has 1', 'a2: insufficient ports: need 2, offer has 0']);
  });

  it('takes reserved ports first', () => {
    const result = matchOffers([offer('o1', 'cpus:1;ports:[31000-31005];ports(prod):[9000-9001]', { role: 'prod' })], [task('t1', 'cpus:0.1', { ports: 3 })]);
    const t = result.launches[0]!.tasks[0]!;
    expect(t.ports).toEqual([9000, 9001, 31000]);
    expect(t.resources.format()).toBe('cpus:0.1;ports:[31000-31000];ports(prod):[9000-9001]');
  });

  it('assigns named and fixed ports in the order asked', () => {
    const ports: PortRequest[] = ['http', { name: 'admin', number: 31003 }, 'metrics', { number: 31001 }];
    const result = matchOffers([offer('o1', 'cpus:1;ports:[31000-31010]')], [task('t1', 'cpus:0.1', { ports }), task('t2', 'cpus:0.1', { ports: ['http'] })]);
    const [t1, t2] = result.launches[0]!.tasks;
    expect(t1!.ports).toEqual([31000, 31003, 31002, 31001]);
    expect(t1!.namedPorts).toEqual({ http: 31000, admin: 31003, metrics: 31002 });
    expect(t2!.namedPorts).toEqual({ http: 31004 });
  });

  it('fixed ports: from the resources text too; taken ports send the next task elsewhere', () => {
    const offers = [offer('o1', 'cpus:1;ports:[8080-8080,31000-31001]', { host: 'a1' }), offer('o2', 'cpus:1;ports:[8000-9000]', { host: 'a2' })];
    const result = matchOffers(offers, [task('t1', 'cpus:0.1;ports:[8080-8080]'), task('t2', 'cpus:0.1', { ports: [{ number: 8080 }] }), task('t3', 'cpus:0.1', { ports: [{ number: 8080 }, 'x'] })]);
    expect(plan(result)).toEqual({ a1: ['t1'], a2: ['t2'] });
    expect(reasons(result, 't3')).toEqual(['a1: port 8080 not offered', 'a2: port 8080 not offered']);
  });
});

describe('matchOffers: constraints', () => {
  const three = (): Offer__Output[] => [
    offer('o1', 'cpus:8;mem:8192', { host: 'a1', attrs: { zone: 'a', rack: 'r1' } }),
    offer('o2', 'cpus:8;mem:8192', { host: 'a2', attrs: { zone: 'b', rack: 'r1' } }),
    offer('o3', 'cpus:8;mem:8192', { host: 'a3', attrs: { zone: 'c', rack: 'r2' } }),
  ];

  it('UNIQUE hostname: 3 agents, 4 tasks → one unplaced, with each agent’s reason', () => {
    const result = matchOffers(three(), tasks(4, 'cpus:1;mem:128', { group: 'web', constraints: [['hostname', 'UNIQUE']] }));
    expect(plan(result)).toEqual({ a1: ['t1'], a2: ['t2'], a3: ['t3'] });
    expect(reasons(result, 't4')).toEqual([
      'a1: hostname UNIQUE: a task already runs on host a1',
      'a2: hostname UNIQUE: a task already runs on host a2',
      'a3: hostname UNIQUE: a task already runs on host a3',
    ]);
  });

  it('counts the running tasks of the group (record, map or function)', () => {
    const running: AgentFacts[] = [{ hostname: 'a1', attributes: { zone: 'a', rack: 'r1' } }];
    const constraints: ConstraintInput[] = [['hostname', 'UNIQUE']];
    const placedForms: MatchOptions['placed'][] = [{ web: running }, new Map([['web', running]]), (g: string) => (g === 'web' ? running : undefined)];
    for (const placed of placedForms) {
      const result = matchOffers(three(), [...tasks(2, 'cpus:1', { group: 'web', constraints }), task('db', 'cpus:1', { group: 'db', constraints })], { placed });
      expect(plan(result)).toEqual({ a1: ['db'], a2: ['t1'], a3: ['t2'] });
    }
  });

  it('GROUP_BY spreads over 3 zones even when one zone is offered first and twice', () => {
    const offers = [offer('o0', 'cpus:8;mem:8192', { host: 'a0', attrs: { zone: 'a' } }), ...three()];
    const result = matchOffers(offers, tasks(6, 'cpus:1;mem:128', { group: 'web', constraints: [['zone', 'GROUP_BY']] }));
    expect(plan(result)).toEqual({ a0: ['t1', 't4'], a2: ['t2', 't5'], a3: ['t3', 't6'] });
  });

  it('GROUP_BY does not wait for a zone whose agents cannot take the task', () => {
    const offers = [offer('o1', 'cpus:8', { host: 'a1', attrs: { zone: 'a' } }), offer('o2', 'cpus:0.5', { host: 'b1', attrs: { zone: 'b' } })];
    const result = matchOffers(offers, tasks(2, 'cpus:1', { group: 'web', constraints: [['zone', 'GROUP_BY']] }));
    expect(plan(result)).toEqual({ a1: ['t1', 't2'] });
  });

  it('GROUP_BY with a minimum waits for offers from more zones', () => {
    const offers = [offer('o1', 'cpus:8', { host: 'a1', attrs: { zone: 'a' } }), offer('o2', 'cpus:0.5', { host: 'b1', attrs: { zone: 'b' } })];
    const running = [{ hostname: 'x', attributes: { zone: 'a' } }];
    const result = matchOffers(offers, [task('t1', 'cpus:1', { group: 'web', constraints: [['zone', 'GROUP_BY', '2']] })], { placed: { web: running } });
    expect(reasons(result, 't1')).toEqual(['a1: zone GROUP_BY 2: tasks cover 1 of at least 2 zone values and zone=a already has 1 task', 'b1: insufficient cpus: need 1, offer has 0.5']);
  });

  it('MAX_PER, CLUSTER without a value, LIKE: reasons per agent', () => {
    const maxPer = matchOffers(three(), tasks(5, 'cpus:1', { group: 'g', constraints: [['rack', 'MAX_PER', '2']] }));
    expect(plan(maxPer)).toEqual({ a1: ['t1', 't2'], a3: ['t3', 't4'] });
    expect(reasons(maxPer, 't5')).toEqual(['a1: rack MAX_PER 2: rack=r1 already has 2 tasks', 'a2: rack MAX_PER 2: rack=r1 already has 2 tasks', 'a3: rack MAX_PER 2: rack=r2 already has 2 tasks']);

    const cluster = matchOffers(three(), [task('t1', 'cpus:7', { group: 'g', constraints: [['rack', 'CLUSTER']] }), ...tasks(2, 'cpus:7', { group: 'g', constraints: [['rack', 'CLUSTER']] }, 'u')]);
    expect(plan(cluster)).toEqual({ a1: ['t1'], a2: ['u1'] });
    expect(reasons(cluster, 'u2')).toEqual(['a1: insufficient cpus: need 7, offer has 1', 'a2: insufficient cpus: need 7, offer has 1', 'a3: rack CLUSTER: tasks already run on rack=r1, agent has rack=r2']);

    const like = matchOffers(three(), [task('t1', 'cpus:1', { constraints: [['zone', 'LIKE', '[bc]'], ['rack', 'UNLIKE', 'r2']] })]);
    expect(plan(like)).toEqual({ a2: ['t1'] });
  });
});

describe('matchOffers: strategies', () => {
  const offers = (): Offer__Output[] => [offer('o1', 'cpus:8;mem:8192', { host: 'big' }), offer('o2', 'cpus:2;mem:2048', { host: 'small' }), offer('o3', 'cpus:4;mem:4096', { host: 'mid' })];
  it.each([
    ['first-fit', { big: ['t1', 't2', 't3'] }],
    ['bin-pack', { small: ['t1', 't2'], mid: ['t3'] }],
    ['spread', { big: ['t1'], small: ['t3'], mid: ['t2'] }],
  ] as const)('%s', (strategy, expected) => {
    const result = matchOffers(offers(), tasks(3, 'cpus:1;mem:1024', { group: 'g' }), { strategy });
    expect(plan(result)).toEqual(expected);
  });
});

describe('matchOffers: input', () => {
  it('is deterministic: the same input gives the same plan', () => {
    const run = (): string =>
      JSON.stringify(matchOffers([offer('o1', 'cpus:3;ports:[1-10]'), offer('o2', 'cpus:3;ports:[1-10]')], tasks(7, 'cpus:1', { ports: 1, constraints: [['hostname', 'MAX_PER', '2']] }), { strategy: 'spread' }));
    expect(run()).toBe(run());
  });

  it('reasons of identical unplaced tasks reflect what was placed between them', () => {
    const result = matchOffers([offer('o1', 'cpus:2', { host: 'a1' })], [task('big1', 'cpus:3'), task('big2', 'cpus:3'), task('small', 'cpus:1'), task('big3', 'cpus:3')]);
    expect(plan(result)).toEqual({ a1: ['small'] });
    expect(['big1', 'big2', 'big3'].map((id) => reasons(result, id))).toEqual([
      ['a1: insufficient cpus: need 3, offer has 2'],
      ['a1: insufficient cpus: need 3, offer has 2'],
      ['a1: insufficient cpus: need 3, offer has 1'],
    ]);
  });

  it('with no offers, every task is unplaced with no reasons', () => {
    expect(matchOffers([], tasks(1, 'cpus:1'))).toEqual({ launches: [], unplaced: [{ task: task('t1', 'cpus:1'), reasons: [] }], declined: [] });
  });

  const bad: [string, () => unknown, string][] = [
    ['bad resources', () => matchOffers([], [task('t1', 'cpus:1'), task('t2', 'cpus:-1')]), 'tasks[1].resources'],
    ['no resources', () => matchOffers([], [task('t1', '')]), 'tasks[0].resources'],
    ['bad constraint', () => matchOffers([], [task('t1', 'cpus:1', { constraints: [['rack', 'MAX_PER', '0']] })]), 'tasks[0].constraints[0].value'],
    ['port name twice', () => matchOffers([], [task('t1', 'cpus:1', { ports: ['a', 'a'] })]), 'tasks[0].ports[1].name'],
    ['bad port number', () => matchOffers([], [task('t1', 'cpus:1', { ports: [{ number: 70000 }] })]), 'tasks[0].ports[0].number'],
    ['bad port count', () => matchOffers([], [task('t1', 'cpus:1', { ports: -1 })]), 'tasks[0].ports'],
    ['offer twice', () => matchOffers([offer('o1', 'cpus:1'), offer('o1', 'cpus:1')], []), 'offers[1].id'],
    ['bad strategy', () => matchOffers([], [], { strategy: 'random' as never }), 'options.strategy'],
  ];
  it.each(bad)('%s → %s', (_name, fn, field) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe(field);
  });
});

describe('matchOffers: at scale', () => {
  it('places 2000 tasks with constraints on 200 offers without overcommitting any (speed: npm run bench -- offers)', () => {
    const offers = Array.from({ length: 200 }, (_, i) =>
      offer(`o${i}`, 'cpus:8;mem:16384;ports:[31000-31099]', { host: `h${i}`, attrs: { zone: `z${i % 4}`, rack: `r${i % 20}` } }),
    );
    const constraintsByGroup: ConstraintInput[][] = [[], [['hostname', 'UNIQUE']], [['zone', 'GROUP_BY']], [['rack', 'MAX_PER', '8']], [['zone', 'LIKE', 'z[0-2]']]];
    const pending: Task[] = Array.from({ length: 2000 }, (_, i) =>
      task(`t${i}`, i % 3 === 0 ? 'cpus:1;mem:1024' : 'cpus:0.5;mem:512', { group: `g${i % 20}`, ports: 1 + (i % 2), constraints: constraintsByGroup[i % 5]! }),
    );
    for (const strategy of ['first-fit', 'bin-pack', 'spread'] as const) {
      const result = matchOffers(offers, pending, { strategy });
      const placed = result.launches.reduce((n, l) => n + l.tasks.length, 0);
      expect(placed + result.unplaced.length).toBe(2000);
      expect(placed).toBeGreaterThan(1500);
      for (const l of result.launches) {
        const offered = Resources.sum(l.offers.map((o) => resourcesFromWire(o.resources)));
        expect(offered.contains(l.resources)).toBe(true);
        const ports = l.tasks.flatMap((t) => t.ports);
        expect(new Set(ports).size).toBe(ports.length);
      }
    }
  });
});

describe('declineFilter', () => {
  it('refuses briefly while work is pending and long when idle', () => {
    expect(declineFilter({ hasPendingWork: true })).toEqual({ refuseSeconds: PENDING_REFUSE_SECONDS });
    expect(declineFilter({ hasPendingWork: false })).toEqual({ refuseSeconds: IDLE_REFUSE_SECONDS });
    expect([PENDING_REFUSE_SECONDS, IDLE_REFUSE_SECONDS]).toEqual([5, 120]);
  });

  it('takes both durations as options, validated once by a policy', () => {
    expect(declineFilter({ hasPendingWork: true, pendingSeconds: 1, idleSeconds: 600 })).toEqual({ refuseSeconds: 1 });
    const policy = declinePolicy({ idleSeconds: 300 });
    expect([policy.filter(true).refuseSeconds, policy.filter(false).refuseSeconds]).toEqual([5, 300]);
    expect(thrown(() => declinePolicy({ pendingSeconds: -1 })).field).toBe('pendingSeconds');
    expect(thrown(() => declinePolicy({ idleSeconds: Number.NaN })).field).toBe('idleSeconds');
    expect(thrown(() => declineFilter({} as never)).field).toBe('hasPendingWork');
  });

  it('pairs with a match: decline what was not used, briefly if tasks still wait', () => {
    const result = matchOffers([offer('o1', 'cpus:1'), offer('o2', 'cpus:0.5')], tasks(2, 'cpus:1'));
    expect(result.declined).toEqual(['o2']);
    expect(declineFilter({ hasPendingWork: result.unplaced.length > 0 })).toEqual({ refuseSeconds: 5 });
  });
});
