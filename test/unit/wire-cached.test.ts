import { describe, expect, it } from 'vitest';
import type { Resource__Output } from '../../proto/index.js';
import { resourcesFromWire, resourcesFromWireCached } from '../../core/wire.js';

function wire(partial: Partial<Resource__Output> & { name: string }): Resource__Output {
  return { type: 'SCALAR', role: '', scalar: 0, ranges: [], set: [], ...partial } as unknown as Resource__Output;
}

describe('resourcesFromWireCached', () => {
  it('gives what resourcesFromWire gives, one value for lists alike, and tells apart lists that differ in anything it reads', () => {
    const lists: Resource__Output[][] = [
      [wire({ name: 'cpus', scalar: 1 }), wire({ name: 'mem', scalar: 128 })],
      [wire({ name: 'cpus', scalar: 1, role: 'dev' }), wire({ name: 'mem', scalar: 128 })],
      [wire({ name: 'cpus', scalar: 2 }), wire({ name: 'mem', scalar: 128 })],
      [wire({ name: 'ports', type: 'RANGES', ranges: [{ begin: 1, end: 2 }] as never })],
      [wire({ name: 'ports', type: 'RANGES', ranges: [{ begin: 1, end: 3 }] as never })],
      [wire({ name: 'disks', type: 'SET', set: ['a', 'b'] })],
      [wire({ name: 'disks', type: 'SET', set: ['a'] })],
    ];
    for (const list of lists) {
      const cached = resourcesFromWireCached(list, 'task.resources');
      expect(cached.equals(resourcesFromWire(list, 'task.resources')), JSON.stringify(list)).toBe(true);
      expect(resourcesFromWireCached(list.map((r) => ({ ...r })), 'task.resources')).toBe(cached);
    }
  });

  it('answers bad input as resourcesFromWire does, naming the field', () => {
    const bad = [wire({ name: 'cpus', type: 'TEXT' as never })];
    expect(() => resourcesFromWireCached(bad, 'task.resources')).toThrow(/task\.resources\[0\]\.type/);
  });
});
