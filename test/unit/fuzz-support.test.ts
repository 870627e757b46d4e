// The fuzz tests' own parts (test/support/fuzz*.ts) that decide what a failure is: settings from
// the environment, seeded generation, one-field mutations, −0 in JSON, the judge of an answer and
// the state diff. If these were wrong, a fuzz run would pass whatever the servers did.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyOf, DEFAULT_FUZZ_SEED, fuzzSettings, mutation, toJson } from '../support/fuzz.js';
import { differences, judge } from '../support/fuzz-session.js';
import type { GrpcCase, HttpCase, Outcome } from '../support/fuzz-target.js';

const http: HttpCase = { via: 'http', server: 'master', route: 'PUT /api/v1/quota', method: 'PUT', url: '/api/v1/quota', note: '' };
const grpc: GrpcCase = { via: 'grpc', route: 'Jobs/Get', request: {}, note: '' };
const answer = (o: Partial<Outcome>): Outcome => ({ status: 400, accepted: false, ms: 1, ...o });

describe('fuzz settings', () => {
  it('default to a fixed seed, take AGORA_FUZZ_* from the environment, and refuse nonsense naming the variable', () => {
    expect(fuzzSettings({ runs: 10, budgetMs: 1000 }, {})).toEqual({ seed: DEFAULT_FUZZ_SEED, runs: 10, budgetMs: 1000, seeds: 0 });
    expect(fuzzSettings({ runs: 10, budgetMs: 1000 }, { AGORA_FUZZ_SEED: '-7', AGORA_FUZZ_RUNS: '3', AGORA_FUZZ_SEEDS: '50' })).toMatchObject({ seed: -7, runs: 3, seeds: 50 });
    expect(() => fuzzSettings({ runs: 10, budgetMs: 1000 }, { AGORA_FUZZ_RUNS: '0' })).toThrow(/AGORA_FUZZ_RUNS/);
    expect(() => fuzzSettings({ runs: 10, budgetMs: 1000 }, { AGORA_FUZZ_SEED: '1.5' })).toThrow(/AGORA_FUZZ_SEED/);
  });
});

describe('fuzz generators', () => {
  const spec = { name: 'web', instances: 2, resources: { cpus: 0.5, mem: 64 }, ports: [{ name: 'http' }], env: { A: 'b' } };

  it('generate the same cases for the same seed', () => {
    const arb = mutation(spec).chain((m) => bodyOf(m.spec, { yaml: true }));
    expect(fc.sample(arb, { seed: 42, numRuns: 50 })).toEqual(fc.sample(arb, { seed: 42, numRuns: 50 }));
  });

  it('mutate one field of a valid spec at a time', () => {
    let changed = 0;
    for (const m of fc.sample(mutation(spec), { seed: 1, numRuns: 300 })) {
      const keys = new Set([...Object.keys(spec), ...Object.keys((m.spec ?? {}) as object)]);
      const touched = [...keys].filter((k) => differences((spec as Record<string, unknown>)[k], (m.spec as Record<string, unknown> | null)?.[k]).length > 0);
      expect(touched.length, m.note).toBeLessThanOrEqual(1);
      if (touched.length === 1) changed += 1;
    }
    expect(changed).toBeGreaterThan(270);
  });

  it('write −0 into JSON as −0', () => {
    expect(toJson({ a: -0, b: [0, -0] })).toBe('{"a":-0,"b":[0,-0]}');
    expect(Object.is((JSON.parse(toJson({ a: -0 })) as { a: number }).a, -0)).toBe(true);
  });
});

describe('the fuzz judge', () => {
  it('fails 5xx, 401, and 4xx answers without { code, message }; passes a 4xx that says why', () => {
    expect(judge(http, answer({ status: 500, code: 'AGORA_INTERNAL', message: 'x' }))).toMatchObject([{ kind: 'server-error' }]);
    expect(judge(http, answer({ status: 401, code: 'AGORA_UNAUTHENTICATED', message: 'x' }))).toMatchObject([{ kind: 'unexpected-status' }]);
    expect(judge(http, answer({ status: 400, message: 'x' }))).toMatchObject([{ kind: 'no-message' }]);
    expect(judge(http, answer({ status: 400, code: 'AGORA_INVALID_ARGUMENT', message: '' }))).toMatchObject([{ kind: 'no-message' }]);
    expect(judge(http, answer({ status: 400, code: 'AGORA_INVALID_ARGUMENT', message: 'role: bad' }))).toEqual([]);
    expect(judge(http, answer({ status: 200, accepted: true }))).toEqual([]);
  });

  it('fails a hang, except when the server hung up on a request over its limits', () => {
    expect(judge(http, answer({ status: 0, transport: 'no answer within 10000 ms' }))).toMatchObject([{ kind: 'no-answer' }]);
    expect(judge(http, answer({ status: 0, transport: 'Error: write EPIPE' }))).toMatchObject([{ kind: 'no-answer' }]);
    const oversize: HttpCase = { ...http, body: { body: 'x'.repeat(5 * 1024 * 1024), contentType: 'application/json', note: '' }, expect: 413 };
    expect(judge(oversize, answer({ status: 0, transport: 'Error: write EPIPE' }))).toEqual([]);
    expect(judge(oversize, answer({ status: 429, code: 'AGORA_RESOURCE_EXHAUSTED', message: 'too large' }))).toMatchObject([{ kind: 'unexpected-status', detail: 'expected 413, got 429 AGORA_RESOURCE_EXHAUSTED' }]);
  });

  it('fails INTERNAL, UNKNOWN and statuses a rejection should not have over gRPC', () => {
    expect(judge(grpc, answer({ status: 'INTERNAL', message: 'x' }))).toMatchObject([{ kind: 'server-error' }]);
    expect(judge(grpc, answer({ status: 'UNKNOWN', message: 'x' }))).toMatchObject([{ kind: 'server-error' }]);
    expect(judge(grpc, answer({ status: 'DEADLINE_EXCEEDED', message: 'x' }))).toMatchObject([{ kind: 'unexpected-status' }]);
    expect(judge(grpc, answer({ status: 'INVALID_ARGUMENT', message: '' }))).toMatchObject([{ kind: 'no-message' }]);
    expect(judge(grpc, answer({ status: 'NOT_FOUND', message: "service 'x' not found" }))).toEqual([]);
  });

  it('names where two states differ', () => {
    expect(differences({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, c: 1 })).toEqual(['.a.b.1: 2 → 3']);
    expect(differences({ a: 1 }, { a: 1 })).toEqual([]);
  });
});
