import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/errors.js';
import { thrown } from '../support/thrown.js';
import {
  PlacementTally,
  agentFactsOf,
  evaluate,
  fieldValue,
  formatConstraint,
  parseConstraint,
  parseConstraints,
  type AgentFacts,
  type ConstraintInput,
} from '../../sdk/constraints.js';
import type { Offer__Output } from '../../proto/index.js';

function agent(hostname: string, attributes: Record<string, string> = {}): AgentFacts {
  return { hostname, attributes };
}
const onRack = (rack: string, host = `h-${rack}`): AgentFacts => agent(host, { rack });
const inZone = (zone: string, host = `h-${zone}`): AgentFacts => agent(host, { zone });

function reasonOf(constraints: ConstraintInput[], a: AgentFacts, placed: AgentFacts[], knownValues?: Record<string, string[]>): string | undefined {
  const v = evaluate(constraints, a, placed, knownValues ? { knownValues } : {});
  return v.ok ? undefined : v.reason;
}

describe('evaluate: every operator, pass and fail', () => {
  // [case, constraint, agent, placed, expected reason (undefined = passes)]
  const cases: [string, ConstraintInput, AgentFacts, AgentFacts[], string | undefined][] = [
    ['UNIQUE hostname: new host', ['hostname', 'UNIQUE'], agent('a2'), [agent('a1')], undefined],
    ['UNIQUE hostname: taken host', ['hostname', 'UNIQUE'], agent('a1'), [agent('a1')], 'hostname UNIQUE: a task already runs on host a1'],
    ['UNIQUE attribute: two there', ['rack', 'UNIQUE'], onRack('r1', 'x'), [onRack('r1', 'y'), onRack('r1', 'z')], 'rack UNIQUE: 2 tasks already run on rack=r1'],
    ['UNIQUE attribute: first on rack', ['rack', 'UNIQUE'], onRack('r2'), [onRack('r1')], undefined],
    ['CLUSTER value: match', ['rack', 'CLUSTER', 'r1'], onRack('r1'), [], undefined],
    ['CLUSTER value: other rack', ['rack', 'CLUSTER', 'r1'], onRack('r2'), [], 'rack CLUSTER r1: agent has rack=r2'],
    ['CLUSTER hostname value', ['hostname', 'CLUSTER', 'a1'], agent('a2'), [], 'hostname CLUSTER a1: agent is host a2'],
    ['CLUSTER no value: first task goes anywhere', ['rack', 'CLUSTER'], onRack('r2'), [], undefined],
    ['CLUSTER no value: follows the first', ['rack', 'CLUSTER'], onRack('r1', 'b'), [onRack('r1', 'a')], undefined],
    ['CLUSTER no value: other rack', ['rack', 'CLUSTER'], onRack('r2'), [onRack('r1')], 'rack CLUSTER: tasks already run on rack=r1, agent has rack=r2'],
    ['GROUP_BY: new value', ['zone', 'GROUP_BY'], inZone('c'), [inZone('a'), inZone('b')], undefined],
    ['GROUP_BY: even groups', ['zone', 'GROUP_BY'], inZone('a'), [inZone('a'), inZone('b')], undefined],
    ['GROUP_BY: fuller group', ['zone', 'GROUP_BY'], inZone('a'), [inZone('a'), inZone('a'), inZone('b')], 'zone GROUP_BY: zone=a has 2 tasks, zone=b has 1'],
    ['GROUP_BY 3: too few groups yet', ['zone', 'GROUP_BY', '3'], inZone('a'), [inZone('a')], 'zone GROUP_BY 3: tasks cover 1 of at least 3 zone values and zone=a already has 1 task'],
    ['GROUP_BY 3: a new group', ['zone', 'GROUP_BY', '3'], inZone('b'), [inZone('a')], undefined],
    ['GROUP_BY 2: enough groups, even', ['zone', 'GROUP_BY', '2'], inZone('a'), [inZone('a'), inZone('b')], undefined],
    ['MAX_PER 2: one there', ['rack', 'MAX_PER', '2'], onRack('r1'), [onRack('r1')], undefined],
    ['MAX_PER 2: full', ['rack', 'MAX_PER', '2'], onRack('r1'), [onRack('r1'), onRack('r1'), onRack('r2')], 'rack MAX_PER 2: rack=r1 already has 2 tasks'],
    ['MAX_PER hostname', ['hostname', 'MAX_PER', '1'], agent('a1'), [agent('a1')], 'hostname MAX_PER 1: host a1 already has 1 task'],
    ['LIKE: matches', ['rack', 'LIKE', 'r[12]'], onRack('r2'), [], undefined],
    ['LIKE: no match', ['rack', 'LIKE', 'r[12]'], onRack('r3'), [], 'rack LIKE r[12]: agent has rack=r3'],
    ['LIKE hostname', ['hostname', 'LIKE', 'web-.*'], agent('db-1'), [], 'hostname LIKE web-.*: agent is host db-1'],
    ['UNLIKE: no match passes', ['rack', 'UNLIKE', 'r[12]'], onRack('r3'), [], undefined],
    ['UNLIKE: match fails', ['rack', 'UNLIKE', 'r[12]'], onRack('r1'), [], 'rack UNLIKE r[12]: agent has rack=r1'],
    ['IS: equal', ['rack', 'IS', 'r1'], onRack('r1'), [], undefined],
    ['IS: different', ['rack', 'IS', 'r1'], onRack('r10'), [], 'rack IS r1: agent has rack=r10'],
  ];
  it.each(cases)('%s', (_name, c, a, placed, reason) => {
    expect(reasonOf([c], a, placed)).toBe(reason);
  });

  it('reports the first failing constraint with the constraint itself', () => {
    const v = evaluate([['rack', 'LIKE', 'r.*'], ['hostname', 'UNIQUE']], onRack('r1', 'a1'), [onRack('r1', 'a1')]);
    expect(v).toEqual({ ok: false, reason: 'hostname UNIQUE: a task already runs on host a1', constraint: { field: 'hostname', operator: 'UNIQUE' } });
    expect(evaluate([], agent('a'), [])).toEqual({ ok: true });
  });
});

describe('evaluate: an agent without the attribute passes only UNLIKE', () => {
  const bare = agent('a1', { zone: 'a' });
  const cases: [ConstraintInput, string | undefined][] = [
    [['rack', 'UNIQUE'], 'rack UNIQUE: agent has no attribute rack'],
    [['rack', 'CLUSTER', 'r1'], 'rack CLUSTER r1: agent has no attribute rack'],
    [['rack', 'CLUSTER'], 'rack CLUSTER: agent has no attribute rack'],
    [['rack', 'GROUP_BY'], 'rack GROUP_BY: agent has no attribute rack'],
    [['rack', 'MAX_PER', '3'], 'rack MAX_PER 3: agent has no attribute rack'],
    [['rack', 'LIKE', 'r[12]'], 'rack LIKE r[12]: agent has no attribute rack'],
    [['rack', 'IS', 'r1'], 'rack IS r1: agent has no attribute rack'],
    [['rack', 'UNLIKE', 'r[12]'], undefined],
  ];
  it.each(cases)('%j', (c, reason) => {
    expect(reasonOf([c], bare, [])).toBe(reason);
  });

  it('placed tasks without the attribute break CLUSTER but count nowhere else', () => {
    expect(reasonOf([['rack', 'CLUSTER']], onRack('r1'), [agent('x')])).toBe('rack CLUSTER: tasks already run on agents without rack, agent has rack=r1');
    expect(reasonOf([['rack', 'UNIQUE']], onRack('r1'), [agent('x')])).toBeUndefined();
  });
});

describe('regular expressions match the whole value (Java String.matches), not a substring', () => {
  const cases: [string, string, boolean][] = [
    ['r[12]', 'r1', true],
    ['r[12]', 'r12', false],
    ['r[12]', 'xr1', false],
    ['r[12]', 'r1x', false],
    ['a|b', 'a', true],
    ['a|b', 'ab', false], // the alternation is grouped: ^(?:a|b)$
    ['.*', '', true],
    ['rack-\\d+', 'rack-10', true],
  ];
  it.each(cases)('%s against %j: LIKE %s', (pattern, value, matches) => {
    const a = agent('h', { rack: value });
    expect(evaluate([['rack', 'LIKE', pattern]], a, []).ok).toBe(matches);
    expect(evaluate([['rack', 'UNLIKE', pattern]], a, []).ok).toBe(!matches);
  });
});

describe('GROUP_BY spreads evenly', () => {
  // Place 9 tasks one by one, each on the first of these agents that passes.
  const agents = [inZone('a', 'a1'), inZone('a', 'a2'), inZone('a', 'a3'), inZone('b', 'b1'), inZone('b', 'b2'), inZone('c', 'c1'), inZone('c', 'c2')];
  function place(constraint: ConstraintInput, n: number, knownValues?: Record<string, string[]>): string[] {
    const placed: AgentFacts[] = [];
    for (let i = 0; i < n; i++) {
      const chosen = agents.find((a) => evaluate([constraint], a, placed, knownValues ? { knownValues } : {}).ok);
      if (chosen === undefined) break;
      placed.push(chosen);
    }
    return placed.map((p) => p.attributes.zone!);
  }
  const tally = (zones: string[]): Record<string, number> => zones.reduce<Record<string, number>>((m, z) => ({ ...m, [z]: (m[z] ?? 0) + 1 }), {});

  it('over 3 zones when the zones are known', () => {
    const zones = place(['zone', 'GROUP_BY'], 9, { zone: ['a', 'b', 'c'] });
    expect(zones).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('over 3 zones with a minimum of 3 groups and nothing known', () => {
    expect(tally(place(['zone', 'GROUP_BY', '3'], 9))).toEqual({ a: 3, b: 3, c: 3 });
  });

  it('as Marathon does without either: only values that have tasks count', () => {
    // Nothing says b and c exist, so zone a (with the fewest tasks of the groups seen) keeps passing.
    expect(place(['zone', 'GROUP_BY'], 3)).toEqual(['a', 'a', 'a']);
  });

  it('names the emptiest known group', () => {
    expect(reasonOf([['zone', 'GROUP_BY']], inZone('a'), [inZone('a'), inZone('a')], { zone: ['a', 'c', 'b'] })).toBe('zone GROUP_BY: zone=a has 2 tasks, zone=b has 0');
  });
});

describe('PlacementTally', () => {
  it('keeps counts current as tasks are added', () => {
    const t = new PlacementTally([onRack('r1'), agent('x')]);
    expect(t.count('rack', 'r1')).toBe(1);
    expect(t.missing('rack')).toBe(1);
    t.add(onRack('r2'));
    t.add(onRack('r2'));
    expect(t.size).toBe(4);
    expect([...t.counts('rack')]).toEqual([['r1', 1], ['r2', 2]]);
    expect(t.least('rack')).toEqual(['r1', 1]);
    expect(evaluate([['rack', 'MAX_PER', '2']], onRack('r2'), t).ok).toBe(false);
  });
});

describe('parsing constraints', () => {
  it('accepts objects, the Marathon array form, the CLI text form and the wire form', () => {
    const list = parseConstraints([
      ['hostname', 'UNIQUE'],
      ['rack', 'CLUSTER', 'r1'],
      'zone:GROUP_BY:3',
      'host:LIKE:a:b', // the value keeps its colons
      { field: 'rack', operator: 'max_per', value: 2 },
      { field: 'disk', operator: 'UNLIKE', value: 'hdd' },
      { field: 'rack', operator: 'UNIQUE', value: '' }, // the wire's empty value is no value
      { field: 'os', operator: 7, value: 'linux' }, // the wire enum number
    ]);
    expect(list.map(formatConstraint)).toEqual([
      'hostname UNIQUE',
      'rack CLUSTER r1',
      'zone GROUP_BY 3',
      'host LIKE a:b',
      'rack MAX_PER 2',
      'disk UNLIKE hdd',
      'rack UNIQUE',
      'os IS linux',
    ]);
    expect(Object.isFrozen(list[0])).toBe(true);
  });

  it('caches a parsed list and reuses parsed constraints', () => {
    const input: ConstraintInput[] = [['hostname', 'UNIQUE']];
    expect(parseConstraints(input)).toBe(parseConstraints(input));
    const c = parseConstraint(['rack', 'LIKE', 'r1']);
    expect(parseConstraint(c)).toBe(c);
    expect(parseConstraints(undefined)).toEqual([]);
  });

  // [input, field named in the error, part of the message]
  const bad: [unknown, string, string][] = [
    [[{ field: 'rack', operator: 'NEAR' }], 'constraints[0].operator', "unknown operator 'NEAR'"],
    [[['hostname', 'UNIQUE'], ['rack', 'MAX_PER']], 'constraints[1].value', 'MAX_PER needs a value'],
    [[['rack', 'MAX_PER', '0']], 'constraints[0].value', 'must be a positive integer'],
    [[['rack', 'MAX_PER', '1.5']], 'constraints[0].value', 'must be a positive integer'],
    [[['rack', 'MAX_PER', 'two']], 'constraints[0].value', 'must be a positive integer'],
    [[['rack', 'MAX_PER', -1]], 'constraints[0].value', 'must be a positive integer'],
    [[['zone', 'GROUP_BY', 'all']], 'constraints[0].value', 'minimum number of groups'],
    [[['rack', 'LIKE', 'r[12']], 'constraints[0].value', 'invalid regular expression'],
    [[['rack', 'UNLIKE']], 'constraints[0].value', 'UNLIKE needs a value'],
    [[['rack', 'LIKE', '']], 'constraints[0].value', 'LIKE needs a value'],
    [[['rack', 'IS']], 'constraints[0].value', 'IS needs a value'],
    [[['hostname', 'UNIQUE', 'x']], 'constraints[0].value', 'UNIQUE takes no value'],
    [[{ operator: 'UNIQUE' }], 'constraints[0].field', 'must be a non-empty string'],
    [[['', 'UNIQUE']], 'constraints[0].field', 'must be a non-empty string'],
    [[['rack']], 'constraints[0]', 'expected [field, operator]'],
    [[['rack', 'CLUSTER', 'r1', 'extra']], 'constraints[0]', 'got 4 item(s)'],
    [['hostname'], 'constraints[0]', 'expected field:OPERATOR'],
    [[42], 'constraints[0]', 'expected {field, operator'],
    [[{ field: 'rack', operator: 'IS', value: {} }], 'constraints[0].value', 'must be a string'],
    [[{ field: 'rack', operator: 0 }], 'constraints[0].operator', 'unknown operator'],
    ['hostname:UNIQUE', 'constraints', 'must be a list'],
  ];
  it.each(bad)('%j → %s', (input, field, message) => {
    const err = thrown(() => parseConstraints(input));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it('evaluate validates too', () => {
    expect(thrown(() => evaluate([['rack', 'MAX_PER', 'x']], agent('a'), [])).field).toBe('constraints[0].value');
  });
});

describe('hostile patterns', () => {
  // The patterns: a backtracking engine took ~11 s (5 stars) and ~56 s (6 stars) on a
  // short value; RE2 answers in linear time.
  const stars = ['(.*.*.*.*.*)*Z', '(.*.*.*.*.*.*)*Z', '(a|aa)*b', '(x+x+)+y'];
  it.each(stars)('%s evaluates in milliseconds, LIKE and UNLIKE', (pattern) => {
    const value = 'a'.repeat(64);
    const started = performance.now();
    const like = evaluate([['hostname', 'LIKE', pattern]], agent(value), []);
    const unlike = evaluate([['hostname', 'UNLIKE', pattern]], agent(`${value}x`), []);
    const ms = performance.now() - started;
    expect(like).toMatchObject({ ok: false, reason: `hostname LIKE ${pattern}: agent is host ${value}` });
    expect(unlike).toEqual({ ok: true });
    expect(ms).toBeLessThan(250);
  });

  it('matches the whole value, as Java String.matches does', () => {
    expect(evaluate([['rack', 'LIKE', 'r1']], agent('a', { rack: 'r10' }), []).ok).toBe(false);
    expect(evaluate([['rack', 'LIKE', 'r1|r10']], agent('a', { rack: 'r10' }), []).ok).toBe(true);
    expect(evaluate([['rack', 'LIKE', 'r\\d+']], agent('a', { rack: 'r42' }), []).ok).toBe(true);
  });

  it('keeps the same verdict for a value it has seen (the memory only spares work)', () => {
    const c = [['zone', 'LIKE', '(eu|us)-[a-z]+-\\d']] as const;
    for (let i = 0; i < 3; i++) {
      expect(evaluate(c as never, agent('a', { zone: 'eu-west-1' }), []).ok).toBe(true);
      expect(evaluate(c as never, agent('a', { zone: 'ap-east-1' }), []).ok).toBe(false);
    }
  });

  const refused: [string, unknown, string, string][] = [
    ['a backreference', ['rack', 'LIKE', '(a)\\1'], 'constraints[0].value', 'invalid regular expression'],
    ['a lookahead', ['rack', 'UNLIKE', '(?=r)r1'], 'constraints[0].value', 'no backreferences or lookaround'],
    ['a lookbehind', ['rack', 'LIKE', '(?<=r)1'], 'constraints[0].value', 'invalid regular expression'],
    ['a pattern over 1024 characters', ['rack', 'LIKE', 'r'.repeat(1025)], 'constraints[0].value', 'at most 1024'],
    ['a pattern too big once compiled', ['rack', 'LIKE', '[a-z]{1000}[a-z]{1000}[a-z]{1000}'], 'constraints[0].value', 'too complex'],
    ['a field over 1024 characters', ['x'.repeat(1025), 'UNIQUE'], 'constraints[0].field', 'at most 1024'],
    ['an IS value over 1024 characters', ['rack', 'IS', 'v'.repeat(1025)], 'constraints[0].value', 'at most 1024'],
  ];
  it.each(refused)('refuses %s, naming the field', (_what, constraint, field, message) => {
    const err = thrown(() => parseConstraints([constraint]));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it('accepts a pattern of exactly 1024 characters', () => {
    expect(parseConstraints([['rack', 'LIKE', 'r'.repeat(1024)]])).toHaveLength(1);
  });
});

describe('agent facts', () => {
  it('reads hostname, attributes, agent id and fault domain from an offer', () => {
    const offer = {
      id: 'o1',
      frameworkId: 'f',
      agentId: 'ag-1',
      hostname: 'a1',
      resources: [],
      attributes: [
        { name: 'rack', type: 'TEXT', text: 'r1', scalar: 0, ranges: [], set: [] },
        { name: 'gen', type: 'SCALAR', text: '', scalar: 3, ranges: [], set: [] },
      ],
      agentHttpAddress: '',
      allocationRole: '*',
      unavailability: null,
      domain: { region: 'eu', zone: 'eu-1' },
    } as unknown as Offer__Output;
    const facts = agentFactsOf(offer);
    expect(facts).toEqual({ agentId: 'ag-1', hostname: 'a1', attributes: { rack: 'r1', gen: '3' }, region: 'eu', zone: 'eu-1' });
    expect(['hostname', 'rack', 'gen', 'agent_id', 'region', 'zone', 'toString'].map((f) => fieldValue(facts, f))).toEqual(['a1', 'r1', '3', 'ag-1', 'eu', 'eu-1', undefined]);
    expect(evaluate([['zone', 'GROUP_BY']], facts, [facts]).ok).toBe(true);
  });

  it('an attribute named zone wins over the fault domain', () => {
    expect(fieldValue({ hostname: 'h', attributes: { zone: 'z9' }, zone: 'eu-1' }, 'zone')).toBe('z9');
  });
});
