// The pure parts of the CLI's kubectl habits: label selectors, -o parsing, JSONPath templates,
// --sort-by, the document shape `get -o yaml` prints and `apply -f` takes back (and what the Jobs
// API ignores of it), List documents, and `explain` walking the proto comments.
import { describe, expect, it } from 'vitest';
import { explain } from '../../cli/commands/explain.js';
import { parseGetOutput, parseJsonPathTemplate, parseSelector, parseSortBy, renderJsonPath, selects, sortByPath } from '../../cli/commands/get-options.js';
import { normalizedDocument } from '../../cli/commands/normalized-spec.js';
import { pruned, specPart, workloadDocument, workloadSources } from '../../cli/commands/workload-documents.js';
import { fromObject } from '../../frameworks/api/document.js';
import type { Workload } from '../../proto/index.js';
import { thrown } from '../support/thrown.js';

describe('label selectors', () => {
  it('parse key=value, key==value, key!=value, key and !key', () => {
    expect(parseSelector('tier=web, env!=prod,canary,!legacy,app==x')).toEqual([
      { op: 'eq', key: 'tier', value: 'web' },
      { op: 'ne', key: 'env', value: 'prod' },
      { op: 'exists', key: 'canary' },
      { op: 'absent', key: 'legacy' },
      { op: 'eq', key: 'app', value: 'x' },
    ]);
    expect(parseSelector('agora.service=web')).toEqual([{ op: 'eq', key: 'agora.service', value: 'web' }]);
  });

  it('select as kubectl does: all must hold; key!=v holds when the key is missing', () => {
    const labels = { tier: 'web', env: 'dev', canary: '' };
    expect(selects(parseSelector('tier=web,env!=prod'), labels)).toBe(true);
    expect(selects(parseSelector('tier=web,env=prod'), labels)).toBe(false);
    expect(selects(parseSelector('canary'), labels)).toBe(true);
    expect(selects(parseSelector('!canary'), labels)).toBe(false);
    expect(selects(parseSelector('zone!=a'), labels)).toBe(true);
    expect(selects(parseSelector('zone=a'), labels)).toBe(false);
  });

  it('parse and select set-based requirements: key in (a,b), key notin (a,b)', () => {
    expect(parseSelector('env in (prod, staging),tier notin (db),canary')).toEqual([
      { op: 'in', key: 'env', values: ['prod', 'staging'] },
      { op: 'notin', key: 'tier', values: ['db'] },
      { op: 'exists', key: 'canary' },
    ]);
    const labels = { tier: 'web', env: 'staging' };
    expect(selects(parseSelector('env in (prod,staging)'), labels)).toBe(true);
    expect(selects(parseSelector('env in (prod)'), labels)).toBe(false);
    expect(selects(parseSelector('zone in (a)'), labels)).toBe(false); // in: the key must be there
    expect(selects(parseSelector('tier notin (db,cache)'), labels)).toBe(true);
    expect(selects(parseSelector('tier notin (web)'), labels)).toBe(false);
    expect(selects(parseSelector('zone notin (a)'), labels)).toBe(true); // notin: a missing key holds
  });

  it('refuse what is not a requirement, naming -l', () => {
    for (const bad of ['', 'a b', '=x', 'a=b=c', '!a=b', 'a,,b', 'a=b c', 'env in (a,b', 'env in a,b)', 'env in ()', 'env in (a,,b)', 'env in ((a))', 'env notin (a b)']) {
      const err = thrown(() => parseSelector(bad));
      expect([err.code, err.field]).toEqual(['AGORA_INVALID_ARGUMENT', '-l']);
    }
  });
});

describe('-o, JSONPath and --sort-by', () => {
  const list = { kind: 'List', items: [{ name: 'b', status: { n: 10 } }, { name: 'a', status: { n: 9 } }, { name: 'c' }] };

  it('parse every output, and name -o when unknown', () => {
    expect(parseGetOutput(undefined)).toEqual({ kind: 'table' });
    expect(parseGetOutput('name')).toEqual({ kind: 'name' });
    expect(parseGetOutput('jsonpath={.items[*].name}')).toMatchObject({ kind: 'jsonpath' });
    expect(thrown(() => parseGetOutput('xml')).field).toBe('-o');
  });

  it('render templates as kubectl: text kept, several results joined by spaces, objects as JSON', () => {
    const render = (t: string): string => renderJsonPath(parseJsonPathTemplate(t, '-o jsonpath'), list);
    expect(render('{.items[*].name}')).toBe('b a c');
    expect(render('names: {.items[*].name}\\n')).toBe('names: b a c\n');
    expect(render('{.items[0].status}')).toBe('{"n":10}');
    expect(render('{.kind}')).toBe('List');
    expect(render('{.items[?(@.name=="a")].status.n}')).toBe('9');
  });

  it('refuse bad templates, naming -o jsonpath', () => {
    for (const bad of ['{.items[}', '{.items', 'no braces', '{range .items[*]}{.name}{end}', '{}']) {
      expect(thrown(() => parseGetOutput(`jsonpath=${bad}`)).field, bad).toBe('-o jsonpath');
    }
  });

  it('sort by a path: numbers as numbers, missing last, ties in their order', () => {
    const items = list.items;
    expect(sortByPath(items, parseSortBy('.status.n'), (r) => r).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(sortByPath(items, parseSortBy('{.name}'), (r) => r).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(sortByPath([{ n: 10 }, { n: 9 }, { n: 100 }], parseSortBy('n'), (r) => r).map((r) => r.n)).toEqual([9, 10, 100]);
    expect(sortByPath([{ k: 'x', i: 1 }, { k: 'x', i: 2 }], parseSortBy('.k'), (r) => r).map((r) => r.i)).toEqual([1, 2]);
    expect(thrown(() => parseSortBy('')).field).toBe('--sort-by');
    expect(thrown(() => parseSortBy('.a[')).field).toBe('--sort-by');
  });
});

describe('workload documents', () => {
  const workload: Workload = {
    kind: 'SERVICE',
    name: 'web',
    version: 'v2',
    createdAtMs: 1,
    updatedAtMs: 2,
    service: { name: 'web', instances: 2, command: 'run', args: [], env: { A: 'b' }, labels: {}, container: null, role: '', resources: { cpus: 0.1, mem: 32, disk: 0, gpus: 0 } },
    serviceStatus: { instances: 2, running: 2, version: 'v2', tasks: [] },
  };

  it('print kind in document spelling, the spec at the top level and the rest under status', () => {
    expect(workloadDocument(workload)).toEqual({
      kind: 'Service',
      name: 'web',
      instances: 2,
      command: 'run',
      env: { A: 'b' },
      role: '',
      resources: { cpus: 0.1, mem: 32, disk: 0, gpus: 0 },
      status: { version: 'v2', createdAtMs: 1, updatedAtMs: 2, instances: 2, running: 2 },
    });
  });

  it('are what the Jobs API takes: status is read-only and ignored, but must be a mapping', () => {
    expect(fromObject(workloadDocument(workload))).toEqual({ kind: 'SERVICE', spec: { name: 'web', instances: 2, command: 'run', env: { A: 'b' }, role: '', resources: { cpus: 0.1, mem: 32, disk: 0, gpus: 0 } } });
    expect(thrown(() => fromObject({ kind: 'Service', name: 'web', status: 'up' })).field).toBe('status');
    // Only status: a typo beside it still reaches the framework, which refuses it.
    expect(fromObject({ kind: 'Service', name: 'web', versoin: 'v1' }).spec).toEqual({ name: 'web', versoin: 'v1' });
  });

  it('prune only what means unset: null, empty lists and maps; zero, false and "" stay', () => {
    expect(pruned({ a: null, b: [], c: {}, d: { e: {} }, f: 0, g: false, h: '', i: [{}] })).toEqual({ f: 0, g: false, h: '', i: [{}] });
  });

  it('compare in the form the framework stores: defaults filled, enums in proto spelling, keys in order', () => {
    const file = { kind: 'cronjob', name: 'tick', schedule: '@daily', concurrencyPolicy: 'Forbid', task: { command: 'true', resources: { cpus: 0.1, mem: 16 } } };
    const normal = specPart(normalizedDocument(file));
    expect(normal).toMatchObject({ kind: 'CronJob', concurrencyPolicy: 'FORBID', name: 'tick' });
    expect(Object.keys(normal)).toEqual([...Object.keys(normal)].sort());
  });

  it('open a List into its items, and name the file and field of a document without kind or name', () => {
    const sources = workloadSources([{ origin: 'all.yaml', where: '', value: { kind: 'List', items: [{ kind: 'Service', name: 'a' }, { kind: 'Job', name: 'b' }] } }]);
    expect(sources.map((s) => s.label)).toEqual(['service/a', 'job/b']);
    expect(thrown(() => workloadSources([{ origin: 'x.yaml', where: 'document 2: ', value: { name: 'a' } }])).message).toBe('x.yaml: document 2: kind: is required: Service, CronJob, Job, Secret or Config');
    expect(thrown(() => workloadSources([{ origin: 'x.yaml', where: '', value: { kind: 'Job' } }])).message).toBe('x.yaml: name: is required');
    expect(thrown(() => workloadSources([{ origin: 'x.yaml', where: '', value: { kind: 'List', items: [{ kind: 'Pod', name: 'p' }] } }])).message).toMatch(/^x\.yaml: items\[0\]\.kind: unknown kind 'Pod'/);
    expect(thrown(() => workloadSources([{ origin: 'x.yaml', where: '', value: [1, 2] }])).field).toBe('(document)');
  });
});

describe('explain', () => {
  it('lists a kind’s fields with types and the proto comments', () => {
    const text = explain('service');
    expect(text).toMatch(/^KIND: +Service$/m);
    expect(text).toMatch(/^ {3}command +<string> +a shell command \(\/bin\/sh -c\)$/m);
    expect(text).toMatch(/^ {3}ports +<\[\]PortSpec>/m);
    expect(text).toMatch(/^ {3}env +<map\[string\]string>/m);
    expect(text).toMatch(/^ {3}status +<Object> +read-only/m);
  });

  it('walks field paths (camelCase or snake_case) into messages and enums', () => {
    expect(explain('service.ports.number')).toMatch(/FIELD: +ports\.number <uint32>\n\nDESCRIPTION:\n +The host port to ask for/);
    expect(explain('cj.concurrency_policy')).toMatch(/VALUES:\n +ALLOW +runs may overlap\n +FORBID +skip a run/);
    expect(explain('job.task.resources')).toMatch(/^ {3}cpus +<double> +cores$/m);
    expect(explain('job.status')).toMatch(/^ {3}phase +<JobPhase>/m);
  });

  it('names what is wrong: an unknown kind, field, or a path through a scalar', () => {
    expect(thrown(() => explain('agents')).field).toBe('KIND');
    expect(thrown(() => explain('service.nope')).message).toMatch(/^FIELD: Service has no field 'nope' \(it has kind, name, instances/);
    expect(thrown(() => explain('service.name.x')).message).toBe('FIELD: Service.name is a string, which has no fields');
  });
});
