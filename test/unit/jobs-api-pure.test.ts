// The Jobs API's and the CLI's pure parts: documents and kinds, structured specs in proto3 JSON
// form, KIND/NAME references, and kubectl-like tables.
import { describe, expect, it } from 'vitest';
import { parseRef } from '../../cli/commands/shared.js';
import { age, mebibytes, pretty, table } from '../../cli/table.js';
import { fromObject, parseDocument, specFromWire } from '../../frameworks/api/document.js';
import { kindFromAlias, kindFromDocument, kindFromWire } from '../../frameworks/api/kinds.js';
import { thrown } from '../support/thrown.js';

const fieldOf = (fn: () => unknown): string | undefined => thrown(fn).field;

describe('documents', () => {
  it('route by kind (any case) and hand the rest to the controller', () => {
    expect(parseDocument('kind: service\nname: web\ninstances: 2\n')).toEqual({ kind: 'SERVICE', spec: { name: 'web', instances: 2 } });
    expect(parseDocument('{"kind":"CronJob","name":"n"}', 'JSON')).toEqual({ kind: 'CRONJOB', spec: { name: 'n' } });
    expect(fromObject({ name: 'web' }, 'SERVICE')).toEqual({ kind: 'SERVICE', spec: { name: 'web' } });
  });

  it('name the field at fault', () => {
    expect(fieldOf(() => parseDocument('name: web\n'))).toBe('kind');
    expect(fieldOf(() => parseDocument('kind: Pod\n'))).toBe('kind');
    expect(fieldOf(() => fromObject({ kind: 'Job', name: 'x' }, 'SERVICE'))).toBe('kind');
    expect(fieldOf(() => parseDocument('a: [1\n'))).toBe('document');
    expect(fieldOf(() => parseDocument('a: 1\na: 2\n'))).toBe('document');
    expect(fieldOf(() => parseDocument('{', 'JSON'))).toBe('document');
    expect(fieldOf(() => parseDocument('   '))).toBe('document');
    expect(fieldOf(() => parseDocument('42'))).toBe('document');
  });

  it('turn a structured spec into proto3 JSON form: defaults dropped, optional fields kept when set', () => {
    const wire = {
      name: 'web',
      instances: 0,
      command: '',
      args: [],
      env: {},
      labels: { team: 'a' },
      container: null,
      ports: [{ name: 'http', number: 0, _number: 'number', protocol: '', labels: {} }],
      constraints: [{ field: 'hostname', operator: 'UNIQUE', value: '' }, { field: 'zone', operator: 'OPERATOR_UNSPECIFIED', value: 'a' }],
      killGracePeriodSeconds: 0,
      _killGracePeriodSeconds: 'killGracePeriodSeconds',
      canary: { instances: 0 },
    };
    expect(specFromWire('SERVICE', wire)).toEqual({
      name: 'web',
      labels: { team: 'a' },
      ports: [{ name: 'http', number: 0 }],
      constraints: [{ field: 'hostname', operator: 'UNIQUE' }, { field: 'zone', value: 'a' }],
      killGracePeriodSeconds: 0,
      canary: {},
    });
  });

  it('spell kinds four ways', () => {
    expect(kindFromDocument('CronJob')).toBe('CRONJOB');
    expect(kindFromWire(3)).toBe('JOB');
    expect(fieldOf(() => kindFromWire('KIND_UNSPECIFIED'))).toBe('kind');
    expect(kindFromAlias('svc')).toBe('SERVICE');
    expect(kindFromAlias('pods')).toBeUndefined();
  });
});

describe('CLI', () => {
  it('parses KIND/NAME references', () => {
    expect(parseRef('service/web')).toEqual({ kind: 'SERVICE', name: 'web', label: 'service/web' });
    expect(parseRef('cj', 'nightly')).toEqual({ kind: 'CRONJOB', name: 'nightly', label: 'cronjob/nightly' });
    expect(fieldOf(() => parseRef('web'))).toBe('KIND/NAME');
    expect(fieldOf(() => parseRef('job/x', undefined, 'SERVICE'))).toBe('KIND/NAME');
    expect(fieldOf(() => parseRef('service/'))).toBe('KIND/NAME');
  });

  it('prints aligned tables and kubectl-like values', () => {
    expect(table(['name', 'ready'], [['web', '3/3'], ['a-long-name', undefined]])).toBe('NAME          READY\nweb           3/3\na-long-name   <none>\n');
    expect([age(1_000, 46_000), age(1_000, 1_000 + 5 * 60_000 + 3_000), age(1_000, 1_000 + 3 * 3_600_000), age(1, 1 + 3 * 86_400_000)]).toEqual(['45s', '5m3s', '3h', '3d']);
    expect([mebibytes(64), mebibytes(1536)]).toEqual(['64Mi', '1.5Gi']);
    expect([pretty('DEPLOYMENT_IN_PROGRESS', 'DEPLOYMENT_'), pretty('TASK_RUNNING', 'TASK_'), pretty(undefined, 'X')]).toEqual(['InProgress', 'Running', '']);
  });
});
