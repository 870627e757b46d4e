// Applies that arrive together are decided in one step and written in one transaction
// (frameworks/batch/applies.ts), yet each caller gets its own answer: new jobs are CREATED, a
// second apply of one name sees the first (UPDATED, v2), a refused change names its field and
// changes nothing, and every job answered is in the store.
import { afterEach, describe, expect, it } from 'vitest';
import { jobSpec, startBatchCluster, stopBatchClusters } from './batch-harness.js';

afterEach(stopBatchClusters);

describe('batch: applies grouped into one write', () => {
  it('answers each apply of a burst on its own, and stores every job it answered', async () => {
    const c = await startBatchCluster();
    await c.batch.apply(jobSpec('active', 'exec sleep 30', { completions: 2 }));
    const burst = [
      ...Array.from({ length: 40 }, (_, i) => c.batch.apply(jobSpec(`burst-${i}`, 'true', { suspend: true }))),
      c.batch.apply(jobSpec('twice', 'true', { suspend: true })),
      c.batch.apply(jobSpec('twice', 'true', { suspend: true, labels: { second: 'yes' } })),
      // completions cannot change while the job is active: refused, naming the field.
      c.batch.apply(jobSpec('active', 'exec sleep 30', { completions: 3 })),
      c.batch.apply(jobSpec('burst-0', 'true', { suspend: true }), { dryRun: true }),
    ];
    const results = await Promise.allSettled(burst);
    const answers = results.map((r) => (r.status === 'fulfilled' ? r.value : { error: (r.reason as { field?: string; code?: string }).field ?? String(r.reason) }));
    expect(answers.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => ({ kind: 'JOB', name: `burst-${i}`, version: 'v1', result: 'CREATED' })));
    expect(answers[40]).toEqual({ kind: 'JOB', name: 'twice', version: 'v1', result: 'CREATED' });
    expect(answers[41]).toEqual({ kind: 'JOB', name: 'twice', version: 'v2', result: 'UPDATED' });
    expect(answers[42]).toEqual({ error: 'completions' });
    expect(answers[43]).toMatchObject({ name: 'burst-0', result: expect.stringMatching(/^(CREATED|UNCHANGED)$/) });

    expect((await c.record('active'))!.spec.completions).toBe(2);
    expect((await c.record('twice'))!.spec.labels).toEqual({ second: 'yes' });
    for (let i = 0; i < 40; i++) expect((await c.record(`burst-${i}`))?.spec.suspend, `burst-${i}`).toBe(true);
    expect((await c.batch.list()).map((w) => w.name).sort()).toEqual(['active', 'twice', ...Array.from({ length: 40 }, (_, i) => `burst-${i}`)].sort());
  });
});
