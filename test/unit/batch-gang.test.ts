import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { Resources } from '../../core/resources.js';
import { decideGang, neverFits, type GangMemory, type HeldOffer } from '../../frameworks/batch/gang.js';
import { explainPending, orderQueue, pendingTasks, type QueuedJob } from '../../frameworks/batch/queue.js';
import { validateJobSpec, type JobSpecDoc } from '../../frameworks/batch/spec.js';
import type { Offer__Output } from '../../proto/index.js';
import { wireOffer } from '../support/framework-unit.js';

/** An offer on its own agent; `hostname` for the constraint tests. */
function offer(id: string, resources: string, hostname?: string): Offer__Output {
  return wireOffer(id, { resources, hostname });
}

function job(patch: Record<string, unknown> = {}, task: Record<string, unknown> = {}): JobSpecDoc {
  return validateJobSpec({ name: 'train', task: { command: './train', resources: { cpus: 1, mem: 128 }, ...task }, ...patch });
}

const gang4 = job({ completions: 4, parallelism: 4, gang: true });
const group = pendingTasks(gang4, 4);

describe('decideGang', () => {
  it('holds partial offers without launching anything, and says how much is covered', () => {
    const clock = new FakeClock();
    const held: HeldOffer[] = [{ offer: offer('o1', 'cpus:1;mem:128'), receivedAtMs: clock.now() }, { offer: offer('o2', 'cpus:1;mem:256'), receivedAtMs: clock.now() }];
    const d = decideGang(group, held, clock.now() + 1000);
    expect(d).toEqual({ action: 'hold', covered: 2, reason: 'gang of 4 needs 4 × (cpus:1;mem:128); holding 2 offers covering 2', wakeAtMs: clock.now() + 30_000 });
  });

  it('accepts once the held offers cover the whole group: one launch plan with every task', () => {
    const clock = new FakeClock();
    const held: HeldOffer[] = [
      { offer: offer('o1', 'cpus:1;mem:128'), receivedAtMs: clock.now() },
      { offer: offer('o2', 'cpus:2;mem:256'), receivedAtMs: clock.now() },
      { offer: offer('o3', 'cpus:4;mem:4096'), receivedAtMs: clock.now() },
    ];
    clock.advance(5000);
    const d = decideGang(group, held, clock.now());
    if (d.action !== 'accept') throw new Error(`expected accept, got ${d.action}: ${d.reason}`);
    expect(d.launches.reduce((n, l) => n + l.tasks.length, 0)).toBe(4);
    // First fit: o1 takes one, o2 two, o3 the last; nothing left to release.
    expect(d.launches.map((l) => [l.offerIds, l.tasks.length])).toEqual([[['o1'], 1], [['o2'], 2], [['o3'], 1]]);
    expect(d.release).toEqual([]);
  });

  it('gives back the offers the group does not need', () => {
    const held = ['a', 'b', 'c'].map((id) => ({ offer: offer(id, 'cpus:4;mem:1024'), receivedAtMs: 0 }));
    const d = decideGang(group, held, 0);
    expect(d).toMatchObject({ action: 'accept', release: ['b', 'c'] });
  });

  it('never launches part of a group, whatever the offers', () => {
    for (let n = 0; n < 4; n++) {
      const held = Array.from({ length: n }, (_, i) => ({ offer: offer(`o${i}`, 'cpus:1;mem:128'), receivedAtMs: 0 }));
      expect(decideGang(group, held, 1).action).toBe('hold');
    }
  });

  it('releases every held offer after maxHoldMs, then cools down before holding again', () => {
    const clock = new FakeClock();
    const first = clock.now();
    const held: HeldOffer[] = [{ offer: offer('o1', 'cpus:2;mem:256'), receivedAtMs: first }];
    clock.advance(5000);
    held.push({ offer: offer('o2', 'cpus:1;mem:128'), receivedAtMs: clock.now() });
    clock.advance(24_999);
    expect(decideGang(group, held, clock.now(), { maxHoldMs: 30_000 }).action).toBe('hold');
    clock.advance(1);
    const d = decideGang(group, held, clock.now(), { maxHoldMs: 30_000, coolDownMs: 60_000 });
    expect(d).toEqual({
      action: 'release',
      release: ['o1', 'o2'],
      impossible: false,
      coolDownUntilMs: clock.now() + 60_000,
      reason: 'gang of 4 needs 4 × (cpus:1;mem:128); holding 2 offers covering 3; released after holding 30 s',
    });
    // In the cool-down: a fresh partial offer is given back at once, not held.
    const memory: GangMemory = { coolDownUntilMs: d.action === 'release' ? d.coolDownUntilMs : 0 };
    clock.advance(10_000);
    const again = decideGang(group, [{ offer: offer('o3', 'cpus:1;mem:128'), receivedAtMs: clock.now() }], clock.now(), {}, memory);
    expect(again).toMatchObject({ action: 'release', release: ['o3'], impossible: false, coolDownUntilMs: memory.coolDownUntilMs });
    expect(again.reason).toMatch(/cooling down until/);
    // ...but offers that cover the whole group are taken even in the cool-down.
    const whole = decideGang(group, [{ offer: offer('o4', 'cpus:8;mem:1024'), receivedAtMs: clock.now() }], clock.now(), {}, memory);
    expect(whole.action).toBe('accept');
    // After the cool-down, holding resumes.
    clock.advance(50_000);
    expect(decideGang(group, [{ offer: offer('o5', 'cpus:1;mem:128'), receivedAtMs: clock.now() }], clock.now(), {}, memory).action).toBe('hold');
  });

  it('releases at once, with a reason, a gang bigger than the cluster or a task bigger than any agent', () => {
    const held = [{ offer: offer('o1', 'cpus:2;mem:256'), receivedAtMs: 0 }];
    const tooBig = decideGang(group, held, 0, { clusterTotal: Resources.parse('cpus:3;mem:8192') });
    expect(tooBig).toMatchObject({ action: 'release', release: ['o1'], impossible: true });
    expect(tooBig.reason).toBe('gang of 4 can never run: it needs cpus:4;mem:512 in all, the cluster has cpus:3;mem:8192');
    const fat = pendingTasks(job({ completions: 2, parallelism: 2, gang: true }, { resources: { cpus: 16, mem: 128 } }), 2);
    const d = decideGang(fat, held, 0, { largestAgent: Resources.parse('cpus:8;mem:1024') });
    expect(d.reason).toBe('gang of 2 can never run: one task needs cpus:16;mem:128, the largest agent has cpus:8;mem:1024');
    expect(neverFits(group, { clusterTotal: Resources.parse('cpus:4;mem:512') })).toBeUndefined();
  });
});

describe('queue', () => {
  const q = (name: string, priority: number, submittedAtMs: number): QueuedJob => ({ spec: job({ name, priority }), submittedAtMs, pending: 1 });

  it('orders by priority (higher first), then submission time, then name', () => {
    const jobs = [q('low', 0, 1), q('late-high', 10, 50), q('early-high', 10, 20), q('b', 5, 7), q('a', 5, 7), q('neg', -1, 0)];
    expect(orderQueue(jobs).map((j) => j.spec.name)).toEqual(['early-high', 'late-high', 'a', 'b', 'low', 'neg']);
    expect(jobs[0]!.spec.name).toBe('low');
  });

  it('explains why a job waits', () => {
    const plain: QueuedJob = { spec: job({}, { resources: { cpus: 4, mem: 128 } }), submittedAtMs: 0, pending: 1 };
    expect(explainPending(plain, [])).toBe('waiting for offers');
    expect(explainPending(plain, [offer('o1', 'cpus:2;mem:1024'), offer('o2', 'cpus:1;mem:1024')])).toBe('insufficient cpus: need 4, largest offer has 2');
    expect(explainPending(plain, [offer('o1', 'cpus:8;mem:1024')])).toBe('');
    const suspended: QueuedJob = { ...plain, spec: job({ suspend: true }) };
    expect(explainPending(suspended, [offer('o1', 'cpus:8;mem:1024')])).toBe('suspended');
  });

  it('explains constraints with matchOffers reasons', () => {
    const unique: QueuedJob = { spec: job({ completions: 2, parallelism: 2 }, { constraints: [['hostname', 'UNIQUE']] }), submittedAtMs: 0, pending: 2 };
    const reason = explainPending(unique, [offer('o1', 'cpus:8;mem:1024', 'a1')]);
    expect(reason).toMatch(/^hostname UNIQUE: /);
    const pinned: QueuedJob = { spec: job({}, { constraints: [['hostname', 'IS', 'gpu-1']] }), submittedAtMs: 0, pending: 1 };
    expect(explainPending(pinned, [offer('o1', 'cpus:8;mem:1024', 'a1'), offer('o2', 'cpus:8;mem:1024', 'a2')])).toBe('hostname IS gpu-1: agent is host a1; hostname IS gpu-1: agent is host a2');
  });

  it('explains a gang by what its held offers cover', () => {
    const g: QueuedJob = { spec: gang4, submittedAtMs: 0, pending: 4 };
    expect(explainPending(g, [])).toBe('gang of 4 needs 4 × (cpus:1;mem:128); holding 0 offers covering 0');
    expect(explainPending(g, [offer('o1', 'cpus:1;mem:128'), offer('o2', 'cpus:1;mem:128')])).toBe('gang of 4 needs 4 × (cpus:1;mem:128); holding 2 offers covering 2');
  });
});
