// What a pending task needs, compiled once per match: scalars in milli-units for the hot
// feasibility check, the ports it wants (how many, which names, which fixed numbers), its role,
// group and parsed constraints, and a key that is equal for tasks that are interchangeable.

import { InvalidArgumentError } from '../core/errors.js';
import { countRanges, type Range } from '../core/ranges.js';
import { Resources } from '../core/resources.js';
import type { AgentCapability__Output } from '../proto/index.js';
import { parseConstraints, type Constraint, type ConstraintInput } from './constraint-spec.js';

/** A port a task wants: a name (`"http"`), or `{ name?, number? }` where `number` asks for that exact host port. */
export type PortRequest = string | { readonly name?: string; readonly number?: number };

/** The minimum a task must say to be matched; callers pass their own objects and get them back. */
export interface PendingTask {
  /** What one instance needs: `Resources` or text (`cpus:0.5;mem:256`). Roles here are ignored: the match picks them from the offer. */
  readonly resources: Resources | string;
  /** How many ports (any free ones), or one request per port, in order (named and/or fixed). */
  readonly ports?: number | readonly PortRequest[];
  /** The role to launch as; by default the role the offer was allocated to. */
  readonly role?: string;
  /** The app/group the task belongs to: constraints count the group's placed tasks. Default ''. */
  readonly group?: string;
  readonly constraints?: readonly ConstraintInput[];
  /** What its agent must be able to run: a task with a container image needs `['DOCKER']`. Default none. */
  readonly capabilities?: readonly AgentCapability__Output[];
}

/** One requested port, in the order asked. */
export interface PortSlot {
  readonly name?: string;
  readonly number?: number;
}

export interface TaskNeed {
  /** Everything but ports, without roles. */
  readonly resources: Resources;
  /** Scalar names and their amounts in milli-units (parallel arrays), for the feasibility check. */
  readonly scalarNames: readonly string[];
  readonly scalarMilli: readonly number[];
  /** cpus and mem in milli-units (0 when not asked for), for scoring. */
  readonly cpus: number;
  readonly mem: number;
  /** Sets and non-port ranges, without roles (rare). */
  readonly other: Resources;
  readonly portSlots: readonly PortSlot[];
  /** Fixed port numbers, sorted. */
  readonly fixedPorts: readonly number[];
  readonly dynamicPorts: number;
  readonly role: string | undefined;
  readonly group: string;
  readonly constraints: readonly Constraint[];
  readonly hasGroupBy: boolean;
  /** Agent capabilities the task needs (sorted, once each). */
  readonly capabilities: readonly string[];
  /** Equal for tasks that any agent would treat the same (same needs, role, group and constraints). */
  readonly key: string;
}

// Ranges of exact ports written into the resources text beyond this are refused: nobody means it.
const MAX_FIXED_PORTS = 1024;

/** The resource part of a need, derived once per resources text or `Resources` value. */
interface ResourceNeed {
  readonly resources: Resources;
  readonly other: Resources;
  readonly scalarNames: readonly string[];
  readonly scalarMilli: readonly number[];
  readonly cpus: number;
  readonly mem: number;
  readonly ports: readonly Range[];
}

/** Compiles tasks; caches by resources and constraint list, which many tasks share. */
export class TaskCompiler {
  readonly #byText = new Map<string, ResourceNeed>();
  readonly #byValue = new WeakMap<Resources, ResourceNeed>();
  readonly #constraintKeys = new WeakMap<readonly Constraint[], string>();

  compile(task: PendingTask, field: string): TaskNeed {
    if (typeof task !== 'object' || task === null) throw new InvalidArgumentError(field, 'must be an object');
    const need = this.#resourcesOf(task.resources, `${field}.resources`);
    const constraints = parseConstraints(task.constraints, `${field}.constraints`);
    const role = roleOf(task.role, `${field}.role`);
    const group = groupOf(task.group, `${field}.group`);
    const ports = portSlotsOf(task.ports, need.ports, `${field}.ports`);
    const fixedPorts = ports.flatMap((p) => (p.number === undefined ? [] : [p.number])).sort((a, b) => a - b);
    const constraintKey = this.#constraintKey(constraints);
    const portKey = ports.map((p) => `${p.name ?? ''}=${p.number ?? ''}`).join(',');
    const capabilities = capabilitiesOf(task.capabilities, `${field}.capabilities`);
    return {
      resources: need.resources,
      scalarNames: need.scalarNames,
      scalarMilli: need.scalarMilli,
      cpus: need.cpus,
      mem: need.mem,
      other: need.other,
      portSlots: ports,
      fixedPorts,
      dynamicPorts: ports.length - fixedPorts.length,
      role,
      group,
      constraints,
      hasGroupBy: constraints.some((c) => c.operator === 'GROUP_BY'),
      capabilities,
      // Constraint-free tasks do not depend on their group, so the group stays out of their key.
      key: [need.resources.format(), portKey, role ?? '', constraintKey === '' ? '' : group, constraintKey, capabilities.join(',')].join('\u0000'),
    };
  }

  #resourcesOf(input: Resources | string, field: string): ResourceNeed {
    if (input instanceof Resources) {
      let need = this.#byValue.get(input);
      if (need === undefined) {
        need = resourceNeed(Resources.forTask(input, field));
        this.#byValue.set(input, need);
      }
      return need;
    }
    if (typeof input !== 'string') throw new InvalidArgumentError(field, 'must be Resources or text like cpus:1;mem:128');
    let need = this.#byText.get(input);
    if (need === undefined) {
      need = resourceNeed(Resources.forTask(input, field));
      this.#byText.set(input, need);
    }
    return need;
  }

  #constraintKey(list: readonly Constraint[]): string {
    if (list.length === 0) return '';
    let key = this.#constraintKeys.get(list);
    if (key === undefined) {
      key = JSON.stringify(list);
      this.#constraintKeys.set(list, key);
    }
    return key;
  }
}

function resourceNeed(asked: Resources): ResourceNeed {
  const all = asked.flatten();
  const resources = all.filter(all.names().filter((n) => n !== 'ports'));
  const scalars = resources.scalars();
  const scalarNames = [...scalars.keys()];
  return {
    resources,
    other: resources.filterBy((r) => r.type !== 'scalar'),
    scalarNames,
    scalarMilli: scalarNames.map((n) => toMilli(scalars.get(n))),
    cpus: toMilli(scalars.get('cpus')),
    mem: toMilli(scalars.get('mem')),
    ports: all.ranges('ports'),
  };
}

function toMilli(units: number | undefined): number {
  return Math.round((units ?? 0) * 1000);
}

function roleOf(role: unknown, field: string): string | undefined {
  if (role === undefined || role === '') return undefined;
  if (typeof role !== 'string') throw new InvalidArgumentError(field, 'must be a string');
  return role;
}

const NO_CAPABILITIES: readonly string[] = Object.freeze([]);

function capabilitiesOf(list: unknown, field: string): readonly string[] {
  if (list === undefined) return NO_CAPABILITIES;
  if (!Array.isArray(list)) throw new InvalidArgumentError(field, "must be a list of agent capabilities, e.g. ['DOCKER']");
  list.forEach((c: unknown, i) => {
    if (typeof c !== 'string' || c === '') throw new InvalidArgumentError(`${field}[${i}]`, "must be an agent capability name, e.g. 'DOCKER'");
  });
  return list.length === 0 ? NO_CAPABILITIES : Object.freeze([...new Set(list as string[])].sort());
}

function groupOf(group: unknown, field: string): string {
  if (group === undefined) return '';
  if (typeof group !== 'string') throw new InvalidArgumentError(field, 'must be a string');
  return group;
}

// Ports named in the resources text (`ports:[8080-8080]`) are fixed ports too, after the requested ones.
function portSlotsOf(input: PendingTask['ports'], inText: readonly Range[], field: string): PortSlot[] {
  const slots: PortSlot[] = [];
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0 || input > 65535) throw new InvalidArgumentError(field, `must be a non-negative integer, got ${input}`);
    for (let i = 0; i < input; i++) slots.push({});
  } else if (Array.isArray(input)) {
    input.forEach((p: unknown, i) => slots.push(portSlotOf(p, `${field}[${i}]`)));
  } else if (input !== undefined) {
    throw new InvalidArgumentError(field, 'must be a number of ports or a list of port requests');
  }
  if (countRanges(inText) > MAX_FIXED_PORTS) throw new InvalidArgumentError(field, `asks for more than ${MAX_FIXED_PORTS} exact ports`);
  for (const r of inText) for (let p = r.begin; p <= r.end; p++) slots.push({ number: p });
  checkDistinct(slots, field);
  return slots;
}

function portSlotOf(p: unknown, field: string): PortSlot {
  if (typeof p === 'string') {
    if (p === '') throw new InvalidArgumentError(field, 'a port name must not be empty');
    return { name: p };
  }
  if (typeof p !== 'object' || p === null) throw new InvalidArgumentError(field, 'must be a port name or { name?, number? }');
  const { name, number } = p as { name?: unknown; number?: unknown };
  if (name !== undefined && (typeof name !== 'string' || name === '')) throw new InvalidArgumentError(`${field}.name`, 'must be a non-empty string');
  if (number !== undefined && (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535)) {
    throw new InvalidArgumentError(`${field}.number`, `must be a port number 1..65535, got ${String(number)}`);
  }
  return { ...(name === undefined ? {} : { name }), ...(number === undefined ? {} : { number }) };
}

function checkDistinct(slots: readonly PortSlot[], field: string): void {
  const names = new Set<string>();
  const numbers = new Set<number>();
  slots.forEach((s, i) => {
    if (s.name !== undefined) {
      if (names.has(s.name)) throw new InvalidArgumentError(`${field}[${i}].name`, `port name '${s.name}' is asked for twice`);
      names.add(s.name);
    }
    if (s.number !== undefined) {
      if (numbers.has(s.number)) throw new InvalidArgumentError(`${field}[${i}].number`, `port ${s.number} is asked for twice`);
      numbers.add(s.number);
    }
  });
}
