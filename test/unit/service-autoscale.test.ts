// The autoscaler's pure parts: the `autoscale` block's validation (errors name the field) and HPA's
// decision rule on plain numbers with a fake clock.
import { describe, expect, it } from 'vitest';
import { applySpec } from '../../frameworks/services/deployments.js';
import { specOf } from '../../frameworks/services/model.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';
import { thrown } from '../support/thrown.js';
import { clampInstances, decideScale, parseAutoscale, recordDecision, type AutoscaleInput, type AutoscaleSpec, type Recommendation } from '../../frameworks/services/autoscale.js';

const SPEC: AutoscaleSpec = { min: 1, max: 5, targetCpuUtilization: 0.5, scaleDownStabilizationSeconds: 0, scaleUpStabilizationSeconds: 0 };
const input = (over: Partial<AutoscaleInput>): AutoscaleInput => ({ spec: SPEC, current: 3, samples: [], deploying: false, now: 1_000_000, recommendations: [], ...over });
const cpu = (...values: number[]) => values.map((v) => ({ cpu: v }));

describe('autoscale spec', () => {
  it('fills the windows and keeps the targets given', () => {
    expect(parseAutoscale({ min: 1, max: 3, targetCpuUtilization: 0.5 })).toEqual({ min: 1, max: 3, targetCpuUtilization: 0.5, scaleDownStabilizationSeconds: 300, scaleUpStabilizationSeconds: 0 });
    expect(parseAutoscale({ min: 2, max: 2, targetMemoryUtilization: 1, scaleDownStabilizationSeconds: 5 })?.targetMemoryUtilization).toBe(1);
    expect(parseAutoscale(undefined)).toBeUndefined();
  });

  it('names the field at fault', () => {
    expect(thrown(() => parseAutoscale({ max: 3, targetCpuUtilization: 0.5 })).field).toBe('autoscale.min');
    expect(thrown(() => parseAutoscale({ min: 0, max: 3, targetCpuUtilization: 0.5 })).field).toBe('autoscale.min');
    expect(thrown(() => parseAutoscale({ min: 1.5, max: 3, targetCpuUtilization: 0.5 })).field).toBe('autoscale.min');
    expect(thrown(() => parseAutoscale({ min: 3, max: 2, targetCpuUtilization: 0.5 })).field).toBe('autoscale.max');
    expect(thrown(() => parseAutoscale({ min: 1, max: 100_000, targetCpuUtilization: 0.5 })).field).toBe('autoscale.max');
    expect(thrown(() => parseAutoscale({ min: 1, max: 3 })).field).toBe('autoscale.targetCpuUtilization');
    expect(thrown(() => parseAutoscale({ min: 1, max: 3, targetCpuUtilization: 0 })).field).toBe('autoscale.targetCpuUtilization');
    expect(thrown(() => parseAutoscale({ min: 1, max: 3, targetMemoryUtilization: 1.2 })).field).toBe('autoscale.targetMemoryUtilization');
    expect(thrown(() => parseAutoscale({ min: 1, max: 3, targetCpuUtilization: 0.5, scaleDownStabilizationSeconds: -1 })).field).toBe('autoscale.scaleDownStabilizationSeconds');
    expect(thrown(() => parseAutoscale({ min: 1, max: 3, targetCpuUtilization: 0.5, cooldown: 1 })).field).toMatch(/^autoscale/);
  });

  it('clamps the starting count into the bounds', () => {
    const a = parseAutoscale({ min: 2, max: 4, targetCpuUtilization: 0.5 });
    expect([clampInstances(1, a), clampInstances(3, a), clampInstances(9, a), clampInstances(9, undefined)]).toEqual([2, 3, 4, 9]);
  });
});

describe('the decision', () => {
  it('scales by ceil(current × measured ÷ target), and says why', () => {
    const out = decideScale(input({ samples: cpu(0.9, 0.9, 0.96) }));
    expect(out.to).toBe(5);
    expect(out.reason).toBe('cpu 0.92 of 0.50 target over 3 tasks → 6; clamped to max 5');
    expect(decideScale(input({ samples: cpu(0.25, 0.25, 0.25) })).to).toBe(2);
  });

  it('changes nothing within the 10 % tolerance', () => {
    expect(decideScale(input({ samples: cpu(0.54, 0.54, 0.54) })).to).toBeUndefined();
    expect(decideScale(input({ samples: cpu(0.46, 0.46, 0.46) })).to).toBeUndefined();
    expect(decideScale(input({ samples: cpu(0.56, 0.56, 0.56) })).to).toBe(4);
  });

  it('clamps to min', () => {
    const out = decideScale(input({ spec: { ...SPEC, min: 2 }, samples: cpu(0.01, 0.01, 0.01) }));
    expect(out.to).toBe(2);
    expect(out.reason).toMatch(/clamped to min 2$/);
  });

  it('leaves out tasks without a sample, and decides nothing when none has one or a deployment runs', () => {
    expect(decideScale(input({ samples: [{ cpu: 1 }, {}, {}] })).reason).toMatch(/over 1 task → 6/);
    const none = decideScale(input({ samples: [{}, {}] }));
    expect(none.to).toBeUndefined();
    expect(none.reason).toBe('no task has a sample yet');
    expect(decideScale(input({ samples: cpu(1, 1, 1), deploying: true })).to).toBeUndefined();
  });

  it('takes the largest of several metrics', () => {
    const spec = { ...SPEC, max: 10, targetMemoryUtilization: 0.5 };
    const out = decideScale(input({ spec, samples: [{ cpu: 0.5, memory: 1 }, { cpu: 0.5, memory: 1 }, { cpu: 0.5, memory: 1 }] }));
    expect(out.to).toBe(6);
    expect(out.reason).toBe('cpu 0.50 of 0.50 target over 3 tasks → 3, memory 1.00 of 0.50 target over 3 tasks → 6');
  });

  it('scales down only to the highest recommendation of the down window', () => {
    const spec = { ...SPEC, scaleDownStabilizationSeconds: 60 };
    let recs: readonly Recommendation[] = [];
    const step = (now: number, current: number, v: number) => {
      const out = decideScale(input({ spec, current, now, recommendations: recs, samples: cpu(v, v, v) }));
      recs = out.recommendations;
      return out.to;
    };
    expect(step(0, 3, 0.5)).toBeUndefined(); // recommends 3
    expect(step(30_000, 3, 0.1)).toBeUndefined(); // recommends 1, held at 3 by the 3 of 30 s ago
    expect(step(61_000, 3, 0.1)).toBe(1); // the 3 left the window
    expect(recs.every((r) => r.at >= 1_000)).toBe(true);
  });

  it('scales up only to the lowest recommendation of the up window', () => {
    const spec = { ...SPEC, scaleUpStabilizationSeconds: 60 };
    const recs = [{ at: 0, instances: 4 }];
    const out = decideScale(input({ spec, current: 3, now: 30_000, recommendations: recs, samples: cpu(1, 1, 1) }));
    expect(out.to).toBe(4);
    expect(out.reason).toMatch(/held at 4 by the lowest recommendation of the last 60 s$/);
    expect(decideScale(input({ spec, current: 3, now: 61_000, recommendations: recs, samples: cpu(1, 1, 1) })).to).toBe(5);
  });

  it('keeps the last 10 decisions', () => {
    let h = recordDecision([], { at: 0, from: 1, to: 2, reason: 'r0' });
    for (let i = 1; i < 15; i++) h = recordDecision(h, { at: i, from: 1, to: 2, reason: `r${i}` });
    expect(h.map((d) => d.reason)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i + 5}`));
  });
});

describe('applying an autoscaled service', () => {
  const ctx = (now: number) => ({ now, tasks: [], newId: () => `web-${now}` });
  const base = { name: 'web', command: 'serve', resources: { cpus: 0.5, mem: 64 } };

  it('keeps the autoscaler’s count on a re-apply, clamped into new bounds, and changes autoscale without a new version', () => {
    const created = applySpec(undefined, parseServiceSpec({ ...base, instances: 2, autoscale: { min: 1, max: 5, targetCpuUtilization: 0.5 } }), ctx(1)).record;
    const scaled = { ...created, instances: 4 }; // as the autoscaler left it
    const again = applySpec(scaled, parseServiceSpec({ ...base, instances: 2, autoscale: { min: 1, max: 5, targetCpuUtilization: 0.5 } }), ctx(2));
    expect(again.result).toBe('UNCHANGED');
    expect(again.record.instances).toBe(4);
    const tighter = applySpec(scaled, parseServiceSpec({ ...base, autoscale: { min: 1, max: 3, targetCpuUtilization: 0.7 } }), ctx(3));
    expect(tighter.result).toBe('UPDATED');
    expect(tighter.record.instances).toBe(3);
    expect(tighter.record.versions.map((v) => v.version)).toEqual(['v1']);
    expect(specOf(tighter.record, 'v1')?.autoscale).toMatchObject({ max: 3, targetCpuUtilization: 0.7 });
    const fixed = applySpec(tighter.record, parseServiceSpec({ ...base, instances: 2 }), ctx(4));
    expect(fixed.record.versions.map((v) => v.version)).toEqual(['v1']);
    expect(specOf(fixed.record, 'v1')?.autoscale).toBeUndefined();
    expect(fixed.record.instances).toBe(2);
    const changed = applySpec(scaled, parseServiceSpec({ ...base, command: 'serve2', instances: 1, autoscale: { min: 1, max: 5, targetCpuUtilization: 0.5 } }), ctx(5));
    expect(changed.record.version).toBe('v2');
    expect(changed.record.instances).toBe(4);
  });
});
