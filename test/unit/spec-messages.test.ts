// Every error message speaks the spec's language: a batch of bad YAML specs, each refused with
// INVALID_ARGUMENT whose field is the path as the YAML spells it (`constraints[0].operator`,
// `task.resources.mem`), a message that starts with that path, and none of what leaks from the
// inside: 'undefined', '[object …]', NaN, proto enum names (SERVICE, NETWORK_HOST, CHECK_TYPE_…).
import { describe, expect, it } from 'vitest';
import { AgoraError } from '../../core/errors.js';
import { parseDocument } from '../../frameworks/api/document.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { validateCronJobSpec } from '../../frameworks/cron/spec.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';

const T = 'command: c\nresources: { cpus: 1, mem: 1 }\n';
const service = (extra: string): string => `kind: Service\nname: web\n${T}${extra}`;
const cron = (extra: string, task = '{ command: c, resources: { cpus: 1, mem: 1 } }'): string => `kind: CronJob\nname: n\nschedule: "@daily"\ntask: ${task}\n${extra}`;
const job = (extra: string, task = '{ command: c, resources: { cpus: 1, mem: 1 } }'): string => `kind: Job\nname: j\ntask: ${task}\n${extra}`;

// [the spec, the field its error must name, a word its message must hold]
const BAD: readonly (readonly [string, string, string])[] = [
  [service('constraints: [{ field: rack }]'), 'constraints[0].operator', 'is required: one of UNIQUE'],
  [service('constraints: [{ operator: IS, value: a }]'), 'constraints[0].field', 'non-empty'],
  [service('constraints: [{ field: rack, operator: NEAR }]'), 'constraints[0].operator', "'NEAR'"],
  [service('constraints: [{ field: rack, operator: IS, value: [a] }]'), 'constraints[0].value', 'a list'],
  [service('constraints: [{ field: rack, operator: IS, value: { a: 1 } }]'), 'constraints[0].value', 'an object'],
  [service('constraints: [[rack]]'), 'constraints[0]', '1 item'],
  [service('healthCheck: { type: HTTP }'), 'healthCheck.http', 'type: HTTP'],
  [service('healthCheck: { type: COMMAND }'), 'healthCheck.command', 'type: COMMAND'],
  [service('healthCheck: { type: BOGUS }'), 'healthCheck.type', 'HTTP, TCP, COMMAND'],
  [service('healthCheck: { http: { portName: nope } }\nports: [{ name: http }]'), 'healthCheck.http.portName', "'nope'"],
  [service('ports: [{ name: http, protocol: sctp }]'), 'ports[0].protocol', 'tcp, udp'],
  [service('ports: [5]'), 'ports[0]', 'object'],
  [service('instances: -1'), 'instances', 'at least 0'],
  [service('instances: many'), 'instances', "'many'"],
  [service('container: { image: x, network: bogus }'), 'container.network', 'host, bridge'],
  [service('container: { image: x, portMappings: [] }'), 'container.portMappings', 'unknown field'],
  [service('env: { A: { b: 1 } }'), 'env.A', 'an object'],
  [service('env: { 1A: x }'), 'env.1A', 'environment variable'],
  [service('upgradeStrategy: { minimumHealthCapacity: 2 }'), 'upgradeStrategy.minimumHealthCapacity', 'at most 1'],
  [service('autoscale: { min: 3, max: 1 }'), 'autoscale.max', 'autoscale.min'],
  [service('unreachableStrategy: 5'), 'unreachableStrategy', 'object'],
  [service('instance: 3'), 'instance', 'unknown field'],
  ['kind: Service\nname: web\ncommand: c', 'resources', 'cpus'],
  ['kind: Service\nname: Web_1\ncommand: c\nresources: { cpus: 1, mem: 1 }', 'name', "'Web_1'"],
  ['kind: Sevice\nname: web', 'kind', 'Service, CronJob or Job'],
  ['name: web', 'kind', 'Service, CronJob or Job'],
  [cron('concurrencyPolicy: Sometimes'), 'concurrencyPolicy', 'Allow, Forbid, Replace'],
  [cron('timeZone: Mars/Olympus'), 'timeZone', 'Mars/Olympus'],
  ['kind: CronJob\nname: n\nschedule: bogus\ntask: { command: c, resources: { cpus: 1, mem: 1 } }', 'schedule', '1 field;'],
  [cron('', '{ command: c, resources: { cpus: 1, mem: 1 }, readinessCheck: {} }'), 'task.readinessCheck', 'healthCheck'],
  [cron('', '{ command: c, resources: { cpus: 1, mem: 1 }, constraints: [{ field: rack }] }'), 'task.constraints[0].operator', 'is required'],
  [job('completionMode: Sometimes'), 'completionMode', 'Indexed'],
  [job('completions: 0'), 'completions', 'at least 1'],
  [job('gang: yes'), 'gang', 'true or false'],
  [job('', '{ command: c, resources: { cpus: 1 } }'), 'task.resources.mem', 'MiB'],
  [job('', '{ command: c, resources: { cpus: 1, mem: 1 }, user: 5 }'), 'task.user', 'string'],
  [job('', '5'), 'task', 'object'],
];

function refusal(text: string): AgoraError {
  try {
    const { kind, spec } = parseDocument(text);
    if (kind === 'SERVICE') parseServiceSpec(spec);
    else if (kind === 'CRONJOB') validateCronJobSpec(spec);
    else validateJobSpec(spec);
  } catch (err) {
    if (err instanceof AgoraError) return err;
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}

// What the inside looks like: proto enum names and values that were never meant to be printed.
const LEAKS = [/undefined/, /\[object/, /\bNaN\b/, /\b(SERVICE|CRONJOB)\b/, /\b(NETWORK|CHECK_TYPE|JOB|DEPLOYMENT|KIND|FORMAT|TASK)_[A-Z_]+/];

describe('spec errors speak the spec\u2019s language', () => {
  it.each(BAD)('%s', (text, field, word) => {
    const err = refusal(text);
    expect(err.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(err.field).toBe(field);
    expect(err.message.startsWith(`${field}: `), err.message).toBe(true);
    expect(err.message).toContain(word);
    for (const leak of LEAKS) expect(err.message).not.toMatch(leak);
  });
});
