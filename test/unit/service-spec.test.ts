// Service specs: documents (YAML/JSON) to kinds, validation with field paths, defaults, and what
// makes a version; the TaskInfo an instance is launched with.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../core/resources.js';
import { parseDocument } from '../../frameworks/api/document.js';
import { parseServiceSpec, specToWire, UNREACHABLE_DEFAULTS, versionKey } from '../../frameworks/services/spec.js';
import { pendingLaunch, taskInfo } from '../../frameworks/services/tasks.js';

const MIN = { name: 'web', command: 'serve', resources: { cpus: 0.5, mem: 64 } };

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { field?: string }).field;
  }
  throw new Error('expected an error');
}

describe('documents', () => {
  it('parses YAML and JSON into a kind and the spec without it', () => {
    const yaml = parseDocument('kind: Service\nname: web\ninstances: 3\ncommand: python3 -m http.server $PORT0\nresources: { cpus: 0.1, mem: 64 }\nports: [{ name: http }]\n');
    expect(yaml.kind).toBe('SERVICE');
    expect(yaml.spec).toEqual({ name: 'web', instances: 3, command: 'python3 -m http.server $PORT0', resources: { cpus: 0.1, mem: 64 }, ports: [{ name: 'http' }] });
    expect(parseDocument('{"kind":"service","name":"x"}', 'JSON')).toEqual({ kind: 'SERVICE', spec: { name: 'x' } });
    expect(parseDocument('kind: CronJob\nname: x\n').kind).toBe('CRONJOB');
    expect(parseDocument('kind: Job\nname: x\n').kind).toBe('JOB');
  });

  it('refuses bad documents, naming what is wrong', () => {
    expect(fieldOf(() => parseDocument(''))).toBe('document');
    expect(fieldOf(() => parseDocument('name: [unclosed\n'))).toBe('document');
    expect(fieldOf(() => parseDocument('kind: Service\nkind: Job\n'))).toBe('document'); // duplicate key
    expect(fieldOf(() => parseDocument('kind: Service\n---\nkind: Service\n'))).toBe('document');
    expect(fieldOf(() => parseDocument('- a\n- b\n'))).toBe('document');
    expect(fieldOf(() => parseDocument('name: web\n'))).toBe('kind');
    expect(fieldOf(() => parseDocument('kind: Deployment\n'))).toBe('kind');
    expect(fieldOf(() => parseDocument('{bad json', 'JSON'))).toBe('document');
  });

  it('validates service specs naming the field', () => {
    expect(parseServiceSpec(MIN).name).toBe('web');
    expect(fieldOf(() => parseServiceSpec({ ...MIN, resources: {} }))).toBe('resources.cpus');
  });
});

describe('service specs', () => {
  it('fills Marathon defaults', () => {
    const spec = parseServiceSpec(MIN);
    expect(spec).toMatchObject({
      instances: 1,
      args: [],
      ports: [],
      env: {},
      constraints: [],
      role: '',
      killGracePeriodSeconds: 5,
      resources: { cpus: 0.5, mem: 64, disk: 0, gpus: 0 },
      backoff: { seconds: 1, factor: 1.15, maxLaunchDelaySeconds: 300 },
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      canary: { instances: 0 },
    });
    expect(spec.healthCheck).toBeUndefined();
  });

  it.each([
    [{ resources: { cpus: 0, mem: 64 } }, 'resources.cpus'],
    [{ resources: { cpus: 1, mem: -1 } }, 'resources.mem'],
    [{ resources: { cpus: 1, mem: 1, gpus: 0.5 } }, 'resources.gpus'],
    [{ resources: { cpus: 1, mem: 1, disk: -1 } }, 'resources.disk'],
    [{ resources: undefined }, 'resources'],
    [{ name: 'Web_1' }, 'name'],
    [{ name: undefined }, 'name'],
    [{ instances: -1 }, 'instances'],
    [{ instances: 1.5 }, 'instances'],
    [{ command: '' }, 'command'],
    [{ args: ['x'] }, 'args'],
    [{ ports: [{ name: 'http' }, { name: 'http' }] }, 'ports[1].name'],
    [{ ports: [{ name: 'http' }, { name: '9lives' }] }, 'ports[1].name'],
    [{ ports: [{ name: 'a', number: 70000 }] }, 'ports[0].number'],
    [{ ports: [{ name: 'a', protocol: 'sctp' }] }, 'ports[0].protocol'],
    [{ env: { 'BAD-NAME': 'x' } }, 'env.BAD-NAME'],
    [{ labels: { a: { b: 1 } } }, 'labels.a'],
    [{ healthCheck: { http: { port: 'http' } } }, 'healthCheck.http.port'],
    [{ ports: ['http'], healthCheck: { http: { portName: 'admin' } } }, 'healthCheck.http.portName'],
    [{ ports: ['http'], healthCheck: { tcp: { portIndex: 1 } } }, 'healthCheck.tcp.portIndex'],
    [{ ports: ['http'], healthCheck: { http: {}, tcp: {} } }, 'healthCheck'],
    [{ ports: ['http'], healthCheck: { type: 'TCP', http: {} } }, 'healthCheck.type'],
    [{ ports: ['http'], healthCheck: { http: { path: 'health' } } }, 'healthCheck.http.path'],
    [{ healthCheck: { command: 'true', intervalSeconds: 0 } }, 'healthCheck.intervalSeconds'],
    [{ readinessCheck: { command: 'true', consecutiveFailures: 0 } }, 'readinessCheck.consecutiveFailures'],
    [{ constraints: [['hostname', 'UNIQUE', 'x']] }, 'constraints[0].value'],
    [{ constraints: [{ field: 'rack', operator: 'MAX_PER', value: 'two' }] }, 'constraints[0].value'],
    [{ role: 'bad role' }, 'role'],
    [{ killGracePeriodSeconds: -1 }, 'killGracePeriodSeconds'],
    [{ backoff: { factor: 0.5 } }, 'backoff.factor'],
    [{ upgradeStrategy: { maximumOverCapacity: 2 } }, 'upgradeStrategy.maximumOverCapacity'],
    [{ canary: { instances: -1 } }, 'canary.instances'],
    [{ container: { forcePull: true } }, 'container.image'],
    [{ container: { image: 'x', network: 'user' } }, 'container.networkName'],
    [{ container: { image: 'x' }, command: 'a', args: ['b'] }, 'args'],
    [{ fetch: [{ executable: true }] }, 'fetch[0].value'],
    [{ replicas: 3 }, 'replicas'],
    [{ unreachableStrategy: 'disabled' }, 'unreachableStrategy'],
    [{ unreachableStrategy: { inactiveAfterSeconds: -1 } }, 'unreachableStrategy.inactiveAfterSeconds'],
    [{ unreachableStrategy: { inactiveAfterSeconds: 86_401 } }, 'unreachableStrategy.inactiveAfterSeconds'],
    [{ unreachableStrategy: { inactiveAfterSeconds: 'soon' } }, 'unreachableStrategy.inactiveAfterSeconds'],
    [{ unreachableStrategy: { expungeAfterSeconds: 1e308 } }, 'unreachableStrategy.expungeAfterSeconds'],
    [{ unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 30 } }, 'unreachableStrategy.expungeAfterSeconds'],
    [{ unreachableStrategy: { inactiveAfter: 60 } }, 'unreachableStrategy.inactiveAfter'],
  ])('refuses %j at %s', (change, field) => {
    expect(fieldOf(() => parseServiceSpec({ ...MIN, ...change }))).toBe(field);
  });

  it('accepts health checks by port name, index or number, and commands', () => {
    const ports = [{ name: 'http' }, { name: 'admin' }];
    expect(parseServiceSpec({ ...MIN, ports, healthCheck: { http: { port: 'admin', path: '/health' } } }).healthCheck).toEqual({
      type: 'HTTP',
      http: { portName: 'admin', scheme: 'http', path: '/health', statuses: [] },
    });
    expect(parseServiceSpec({ ...MIN, ports, healthCheck: { tcp: {} } }).healthCheck?.tcp).toEqual({ portIndex: 0 });
    expect(parseServiceSpec({ ...MIN, ports, healthCheck: { tcp: { port: 8080 } } }).healthCheck?.tcp).toEqual({ port: 8080 });
    expect(parseServiceSpec({ ...MIN, healthCheck: { command: 'test -f ready' } }).healthCheck).toEqual({ type: 'COMMAND', command: { value: 'test -f ready' } });
  });

  it('reads the structured form a typed gRPC client sends (proto3 defaults mean unset)', () => {
    const wire = specToWire(parseServiceSpec({ ...MIN, instances: 2, ports: ['http'], healthCheck: { http: { port: 'http' } }, constraints: [['hostname', 'UNIQUE']] }));
    const again = parseServiceSpec({ ...wire, container: null, readinessCheck: { type: 'CHECK_TYPE_UNSPECIFIED', http: null, tcp: null, command: null }, user: '', role: '' });
    expect(again).toEqual(parseServiceSpec({ ...MIN, instances: 2, ports: ['http'], healthCheck: { http: { port: 'http' } }, constraints: [['hostname', 'UNIQUE']] }));
  });

  it('unreachableStrategy: absent unless given (the defaults apply), filled in and sent back on the wire', () => {
    expect(UNREACHABLE_DEFAULTS).toEqual({ inactiveAfterSeconds: 0, expungeAfterSeconds: 600 });
    expect(parseServiceSpec(MIN).unreachableStrategy).toBeUndefined();
    expect(parseServiceSpec({ ...MIN, unreachableStrategy: { inactiveAfterSeconds: null, expungeAfterSeconds: null } }).unreachableStrategy).toBeUndefined();
    expect(parseServiceSpec({ ...MIN, unreachableStrategy: { inactiveAfterSeconds: 30 } }).unreachableStrategy).toEqual({ inactiveAfterSeconds: 30, expungeAfterSeconds: 600 });
    expect(parseServiceSpec({ ...MIN, unreachableStrategy: { inactiveAfterSeconds: 900 } }).unreachableStrategy).toEqual({ inactiveAfterSeconds: 900, expungeAfterSeconds: 900 });
    const spec = parseServiceSpec({ ...MIN, unreachableStrategy: { inactiveAfterSeconds: 5, expungeAfterSeconds: 60 } });
    expect(specToWire(spec).unreachableStrategy).toEqual({ inactiveAfterSeconds: 5, expungeAfterSeconds: 60 });
    expect(parseServiceSpec({ ...specToWire(spec), container: null, healthCheck: null, readinessCheck: null })).toEqual(spec);
    expect(specToWire(parseServiceSpec(MIN)).unreachableStrategy).toBeNull();
    expect(versionKey(spec)).not.toBe(versionKey(parseServiceSpec(MIN)));
  });

  it('autoscale: validated naming the field, instances clamped into its bounds, sent back on the wire', () => {
    const a = parseServiceSpec({ ...MIN, instances: 9, autoscale: { min: 1, max: 3, targetCpuUtilization: 0.5 } });
    expect(a.instances).toBe(3);
    expect(a.autoscale).toEqual({ min: 1, max: 3, targetCpuUtilization: 0.5, scaleDownStabilizationSeconds: 300, scaleUpStabilizationSeconds: 0 });
    expect(parseServiceSpec({ ...MIN, instances: 0, autoscale: { min: 2, max: 3, targetMemoryUtilization: 0.8 } }).instances).toBe(2);
    expect(parseServiceSpec(MIN).autoscale).toBeUndefined();
    expect(specToWire(a).autoscale).toEqual(a.autoscale);
    expect(specToWire(parseServiceSpec(MIN)).autoscale).toBeNull();
    expect(parseServiceSpec({ ...specToWire(a), container: null, healthCheck: null, readinessCheck: null, autoscale: { ...a.autoscale, targetMemoryUtilization: null } })).toEqual(a);
    expect(fieldOf(() => parseServiceSpec({ ...MIN, autoscale: { min: 3, max: 2, targetCpuUtilization: 0.5 } }))).toBe('autoscale.max');
    expect(fieldOf(() => parseServiceSpec({ ...MIN, autoscale: { min: 1, max: 2 } }))).toBe('autoscale.targetCpuUtilization');
    expect(fieldOf(() => parseServiceSpec({ ...MIN, autoscale: { min: 1, max: 2, targetCpuUtilization: 2 } }))).toBe('autoscale.targetCpuUtilization');
    expect(fieldOf(() => parseServiceSpec({ ...MIN, autoscale: 3 }))).toBe('autoscale');
  });

  it('a version is everything but the count', () => {
    const a = parseServiceSpec({ ...MIN, instances: 1, env: { B: '1', A: '2' } });
    const b = parseServiceSpec({ ...MIN, instances: 9, env: { A: '2', B: '1' } });
    expect(versionKey(a)).toBe(versionKey(b));
    expect(versionKey(a)).not.toBe(versionKey(parseServiceSpec({ ...MIN, env: { A: '3' } })));
  });
});

describe('service tasks', () => {
  it('names the ports in TaskInfo.discovery, in order, and carries the checks, kill grace and labels', () => {
    const spec = parseServiceSpec({ ...MIN, ports: [{ name: 'http' }, { name: 'admin', protocol: 'udp' }], env: { A: '1' }, healthCheck: { http: { port: 'http' } }, killGracePeriodSeconds: 2 });
    const pending = pendingLaunch(spec, 'v3', false, '*');
    expect(pending).toMatchObject({ ports: [{ name: 'http' }, { name: 'admin' }], role: '*', group: 'web' });
    const info = taskInfo('web.v3.x', 'agent-1', 'v3', { task: pending, resources: Resources.parse('cpus:0.5;mem:64;ports:[31000-31001]'), ports: [31000, 31001], namedPorts: { http: 31000, admin: 31001 } });
    expect(info.discovery?.ports).toEqual([
      { number: 31000, name: 'http', protocol: 'tcp', labels: {} },
      { number: 31001, name: 'admin', protocol: 'udp', labels: {} },
    ]);
    expect(info.command).toMatchObject({ shell: true, value: 'serve', environment: { variables: [{ name: 'A', value: '1' }, { name: 'AGORA_SERVICE', value: 'web' }, { name: 'AGORA_SERVICE_VERSION', value: 'v3' }] } });
    expect(info.healthCheck).toMatchObject({ type: 'HTTP', http: { portName: 'http', path: '/' } });
    expect(info.killPolicy).toEqual({ gracePeriodSeconds: 2 });
    expect(info.labels).toMatchObject({ 'agora.service': 'web', 'agora.version': 'v3' });
  });

  it('runs args in exec form, and an image with docker port mappings on bridge networks', () => {
    const exec = parseServiceSpec({ ...MIN, command: undefined, args: ['/bin/server', '--port', '80'] });
    const p = pendingLaunch(exec, 'v1', false, '*');
    expect(taskInfo('t', 'a', 'v1', { task: p, resources: Resources.parse('cpus:0.5;mem:64'), ports: [], namedPorts: {} }).command).toMatchObject({ shell: false, value: '', arguments: ['/bin/server', '--port', '80'] });
    const image = parseServiceSpec({ ...MIN, command: undefined, container: { image: 'nginx', network: 'bridge' }, ports: [{ name: 'http', containerPort: 80 }] });
    const info = taskInfo('t', 'a', 'v1', { task: pendingLaunch(image, 'v1', false, '*'), resources: Resources.parse('cpus:0.5;mem:64;ports:[31005-31005]'), ports: [31005], namedPorts: { http: 31005 } });
    expect(info.container).toMatchObject({ type: 'CONTAINER_DOCKER', docker: { image: 'nginx', network: 'NETWORK_BRIDGE', portMappings: [{ hostPort: 31005, containerPort: 80, protocol: 'tcp', name: 'http' }] } });
  });
});
