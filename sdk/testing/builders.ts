// Fixtures in one line: an Offer, a TaskStatus and a TaskSpec as the SDK hands and takes them, with
// every field filled and only what the test cares about spelled out.
//
//   offer({ resources: 'cpus:2;mem:1024;ports:[31000-31010]', attributes: { rack: 'r1' } })
//   status({ taskId: 't1', state: 'TASK_RUNNING' })
//   taskSpec({ offer: o, name: 'web', resources: 'cpus:1;mem:128', command: 'sleep 60' })
//
// Text is parsed as the agent's flags are (`--resources`, `--attributes`), so a bad fixture fails
// at once with an InvalidArgumentError naming the field.
import { InvalidArgumentError } from '../../core/errors.js';
import { newUuid } from '../../core/ids.js';
import { Resources } from '../../core/resources.js';
import { isTaskState, type TaskState } from '../../core/task-state.js';
import { attributesToWire, parseAttributes, type Attributes } from '../../core/wire.js';
import type { AgentCapability__Output, Attribute__Output, CommandInfo, Offer__Output, Resource__Output } from '../../proto/index.js';
import { resourcesToWire, type TaskSpec, type TaskStatus } from '../types.js';

let sequence = 0;

/** The next number of the fixtures' ids (offer-1, agent-1, …): unique within the process. */
function next(): number {
  sequence += 1;
  return sequence;
}

/** Resources as text (`cpus:2;mem:1024;ports:[31000-31010]`), a Resources, or already in wire form. */
export type ResourcesFixture = string | Resources | readonly Resource__Output[];

function wireResources(value: ResourcesFixture, field: string): Resource__Output[] {
  if (typeof value === 'string') return resourcesToWire(Resources.parse(value, field));
  if (value instanceof Resources) return resourcesToWire(value);
  if (!Array.isArray(value)) throw new InvalidArgumentError(field, 'resources must be text (cpus:1;mem:128), a Resources or a list of wire resources');
  return [...value];
}

function wireAttributes(value: string | Attributes, field: string): Attribute__Output[] {
  const attributes = typeof value === 'string' ? parseAttributes(value, field) : value;
  return attributesToWire(attributes).map((a) => ({ name: a.name ?? '', type: a.type ?? 'TEXT', scalar: Number(a.scalar ?? 0), ranges: [], set: [], text: a.text ?? '' })) as Attribute__Output[];
}

export interface OfferFixture {
  /** Default `offer-<n>`. */
  readonly id?: string;
  /** Default `framework-1`. */
  readonly frameworkId?: string;
  /** Default `agent-<n>` (n as the offer's): each offer from its own agent unless told. */
  readonly agentId?: string;
  /** Default `host-<agentId>`. */
  readonly hostname?: string;
  /** Default `cpus:1;mem:512`. */
  readonly resources?: ResourcesFixture;
  /** `rack:r1;zone:a` or { rack: 'r1' }; default none. */
  readonly attributes?: string | Attributes;
  /** The role the resources are offered to; default `*`. */
  readonly role?: string;
  /** Default `<hostname>:5052`. */
  readonly agentHttpAddress?: string;
  /** The agent's IP (its tasks answer there); default `127.0.0.1`. */
  readonly agentIp?: string;
  /** What the agent can run (image tasks need DOCKER); default `['DOCKER']`. */
  readonly agentCapabilities?: readonly AgentCapability__Output[];
}

/** A whole Offer (as handlers get it) of one agent's resources. */
export function offer(fixture: OfferFixture = {}): Offer__Output {
  const n = next();
  const agentId = fixture.agentId ?? `agent-${n}`;
  const hostname = fixture.hostname ?? `host-${agentId}`;
  return {
    id: fixture.id ?? `offer-${n}`,
    frameworkId: fixture.frameworkId ?? 'framework-1',
    agentId,
    hostname,
    resources: wireResources(fixture.resources ?? 'cpus:1;mem:512', 'resources'),
    attributes: wireAttributes(fixture.attributes ?? {}, 'attributes'),
    agentHttpAddress: fixture.agentHttpAddress ?? `${hostname}:5052`,
    allocationRole: fixture.role ?? '*',
    agentIp: fixture.agentIp ?? '127.0.0.1',
    agentCapabilities: [...(fixture.agentCapabilities ?? ['DOCKER'])],
    unavailability: null,
    domain: null,
  };
}

/** `count` offers, each from its own agent, all with the same fixture (ids and agents generated). */
export function offers(count: number, fixture: Omit<OfferFixture, 'id' | 'agentId' | 'hostname'> = {}): Offer__Output[] {
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('count', `a whole number of offers, not ${String(count)}`);
  return Array.from({ length: count }, () => offer(fixture));
}

export type StatusFixture = Partial<Omit<TaskStatus, 'taskId' | 'state'>> & { readonly taskId: string; readonly state: TaskState };

/**
 * A whole TaskStatus (as the `update` handler gets it): from the executor, with a fresh uuid (so it
 * is acknowledged), the reason REASON_UNSPECIFIED and agent `agent-1` unless told.
 */
export function status(fixture: StatusFixture): TaskStatus {
  if (typeof fixture.taskId !== 'string' || fixture.taskId === '') throw new InvalidArgumentError('taskId', 'a status names its task');
  if (!isTaskState(fixture.state)) throw new InvalidArgumentError('state', `not a task state: ${String(fixture.state)}`);
  return {
    reason: 'REASON_UNSPECIFIED',
    message: '',
    source: 'SOURCE_EXECUTOR',
    uuid: newUuid(),
    timestampMs: Date.now(),
    agentId: 'agent-1',
    executorId: '',
    labels: {},
    data: Buffer.alloc(0),
    containerStatus: null,
    ...fixture,
    agentIp: fixture.agentIp ?? '',
  };
}

export interface TaskSpecFixture {
  /** The offer the task is launched on: gives its agent (and, without `resources`, all its resources). */
  readonly offer?: Offer__Output;
  /** Without an offer: the agent to launch on. */
  readonly agentId?: string;
  /** Default `task`. */
  readonly name?: string;
  /** Default `<name>-<n>`. */
  readonly taskId?: string;
  /** Default: the offer's resources, else `cpus:0.1;mem:32`. */
  readonly resources?: ResourcesFixture;
  /** A shell command line, or a CommandInfo; default `true`. */
  readonly command?: string | CommandInfo;
}

/** A TaskSpec ready for `driver.launch(…)`: its agent from the offer, a generated id, a command. */
export function taskSpec(fixture: TaskSpecFixture = {}): TaskSpec {
  const agentId = fixture.offer?.agentId ?? fixture.agentId;
  if (agentId === undefined || agentId === '') throw new InvalidArgumentError('agentId', 'a task needs an offer or an agentId to run on');
  const name = fixture.name ?? 'task';
  const resources = fixture.resources === undefined ? (fixture.offer?.resources ?? wireResources('cpus:0.1;mem:32', 'resources')) : wireResources(fixture.resources, 'resources');
  if (resources.length === 0) throw new InvalidArgumentError('resources', 'a task needs resources');
  const command = fixture.command ?? 'true';
  return {
    taskId: fixture.taskId ?? `${name}-${next()}`,
    name,
    agentId,
    resources,
    command: typeof command === 'string' ? { shell: true, value: command } : command,
  };
}
