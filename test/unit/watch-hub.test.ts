// The shared watch hub (frameworks/watch-hub.ts) and the services hub on top of it: each event only
// when what it carries changed, DELETED once, a throwing listener does not stop the others.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import type { WatchEvent, Workload } from '../../proto/index.js';
import { ServiceWatchHub } from '../../frameworks/services/watch.js';
import { WatchHub } from '../../frameworks/watch-hub.js';

const view = (phase: string): Workload => ({ kind: 'JOB', name: 'a', jobStatus: { phase } }) as Workload;

describe('WatchHub', () => {
  it('sends ADDED, then MODIFIED only on a change, DELETED once, with its kind and the time', () => {
    const clock = new FakeClock(1000);
    const hub = new WatchHub('JOB', clock, silentLogger());
    const events: WatchEvent[] = [];
    hub.subscribe(() => {
      throw new Error('a bad listener');
    });
    const stop = hub.subscribe((e) => events.push(e));
    hub.publish('a', view('JOB_PENDING'));
    hub.publish('a', view('JOB_PENDING'));
    clock.advance(5);
    hub.publish('a', view('JOB_RUNNING'));
    expect(hub.deleted('a', view('JOB_RUNNING'))).toBe(true);
    expect(hub.deleted('a', view('JOB_RUNNING'))).toBe(false);
    expect(events.map((e) => [e.type, e.kind, e.name, e.timestampMs])).toEqual([
      ['ADDED', 'JOB', 'a', 1000],
      ['MODIFIED', 'JOB', 'a', 1005],
      ['DELETED', 'JOB', 'a', 1005],
    ]);
    stop();
    hub.publish('b', view('JOB_PENDING'));
    expect(events).toHaveLength(3);
  });

  it('services: ENDPOINTS and DEPLOYMENT_PROGRESS after the workload, each only when changed', () => {
    const hub = new ServiceWatchHub(new FakeClock(), silentLogger());
    const types: string[] = [];
    hub.subscribe((e) => types.push(`${e.type}`));
    const w = { kind: 'SERVICE', name: 's' } as Workload;
    hub.publish('s', w, [], undefined);
    hub.publish('s', w, [{ taskId: 't1' }], { id: 'd1' });
    hub.publish('s', w, [{ taskId: 't1' }], { id: 'd1' });
    hub.deleted('s', w);
    hub.publish('s', w, [], undefined);
    expect(types).toEqual(['ADDED', 'ENDPOINTS', 'DEPLOYMENT_PROGRESS', 'DELETED', 'ADDED']);
  });
});
