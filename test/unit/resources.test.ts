import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/errors.js';
import { thrown } from '../support/thrown.js';
import {
  InsufficientResourcesError,
  Resources,
  parseResources,
  scalarsOf,
  validateTaskResources,
  type Resource,
} from '../../core/resources.js';

const P = (text: string): Resources => Resources.parse(text);

function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parse', () => {
  it('reads the full grammar', () => {
    const r = P('cpus:4;mem:8192;disk:10000;gpus:1;ports:[31000-32000,33000-33010]');
    expect(r.scalar('cpus')).toBe(4);
    expect(r.scalar('mem')).toBe(8192);
    expect(r.scalar('disk')).toBe(10000);
    expect(r.scalar('gpus')).toBe(1);
    expect(r.ranges('ports')).toEqual([
      { begin: 31000, end: 32000 },
      { begin: 33000, end: 33010 },
    ]);
    expect(r.count('ports')).toBe(1012);
  });

  it.each([
    ['', ''],
    ['  ', ''],
    [';;', ''],
    ['cpus:0', ''], // empty resources are dropped, as in Mesos
    ['ports:[]', ''],
    ['zones:{}', ''],
    ['cpus:1;', 'cpus:1'],
    [' cpus : 1 ; mem : 2 ', 'cpus:1;mem:2'],
    ['\tcpus\t(\tprod\t)\t:\t2\n', 'cpus(prod):2'],
    ['ports:[ 1 - 5 , 10 ]', 'ports:[1-5,10-10]'],
    ['zones:{ b , a }', 'zones:{a,b}'],
    ['mem:2;cpus:1', 'cpus:1;mem:2'],
    ['zz:1;aa:2;gpus:1;disk:3;mem:4;cpus:5', 'cpus:5;mem:4;disk:3;gpus:1;aa:2;zz:1'],
    ['cpus(prod):2;mem(prod):1024;cpus:1', 'cpus:1;cpus(prod):2;mem(prod):1024'],
    ['cpus(b):1;cpus(a):1;cpus(*):1', 'cpus:1;cpus(a):1;cpus(b):1'],
    ['cpus(web/api):1', 'cpus(web/api):1'],
    ['cpus:1;cpus:2.5', 'cpus:3.5'], // the same name twice adds up
    ['ports:[1-5];ports:[4-8]', 'ports:[1-8]'],
    ['ports:[10-20,1-5,4-8,21]', 'ports:[1-8,10-21]'], // overlapping and adjacent ranges merge
    ['zones:{a};zones:{b,a}', 'zones:{a,b}'], // sets add as unions
    ['cpus:.5', 'cpus:0.5'],
    ['cpus:1.', 'cpus:1'],
    ['cpus:0.0004', ''], // rounds to zero
    ['cpus:0.0005', 'cpus:0.001'], // half up
    ['cpus:1.0005', 'cpus:1.001'],
    ['cpus:1.2344999', 'cpus:1.234'],
    ['cpus:2.9999', 'cpus:3'],
    ['mem:00128', 'mem:128'],
    ['ports:[0-65535]', 'ports:[0-65535]'],
    ['my.res_1-x:3', 'my.res_1-x:3'],
  ])('%j → %j', (input, canonical) => {
    expect(P(input).format()).toBe(canonical);
  });

  it.each([
    ['cpus', "resources: missing value for 'cpus' (at position 4 in 'cpus')"],
    ['cpus:', "resources: missing value for 'cpus' (at position 5 in 'cpus:')"],
    ['cpus:1; mem: ', "resources: missing value for 'mem' (at position 12 in 'mem:')"],
    [':1', "resources: empty resource name (at position 0 in ':1')"],
    ['cpus:1;  (prod):1', "resources: empty resource name (at position 9 in '(prod):1')"],
    ['Cpus:1', "resources: invalid resource name 'Cpus' (expected [a-z][a-z0-9_.-]*) (at position 0 in 'Cpus:1')"],
    ['1cpus:1', "resources: invalid resource name '1cpus'"],
    ['cpus x:1', "resources: expected ':' after 'cpus', found 'x' (at position 5 in 'cpus x:1')"],
    ['cpus:abc', "resources: bad scalar for 'cpus': 'abc' is not a number (at position 5 in 'cpus:abc')"],
    ['cpus:1e3', "bad scalar for 'cpus': '1e3' is not a number"],
    ['cpus:1.2.3', "bad scalar for 'cpus': '1.2.3' is not a number"],
    ['cpus:.', "'.' is not a number"],
    ['cpus:-1', "resources: bad scalar for 'cpus': '-1' is negative (at position 5 in 'cpus:-1')"],
    ['cpus:-0.5', "'-0.5' is negative"],
    ['cpus:NaN', "bad scalar for 'cpus': 'NaN' is not finite"],
    ['cpus:Infinity', "bad scalar for 'cpus': 'Infinity' is not finite"],
    ['cpus:-inf', "'-inf' is not finite"],
    ['mem:99999999999999999999', "'99999999999999999999' is too large"],
    ['cpus(:1', "resources: unclosed '(' in the role of 'cpus' (at position 4 in 'cpus(:1')"],
    ['cpus(', "unclosed '(' in the role of 'cpus'"],
    ['cpus():1', "resources: invalid role '' for 'cpus' (at position 4 in 'cpus():1')"],
    ['cpus(a b):1', "invalid role 'a b' for 'cpus'"],
    ['cpus(..):1', "invalid role '..' for 'cpus'"],
    ['cpus(-x):1', "invalid role '-x' for 'cpus'"],
    ['cpus(a//b):1', "invalid role 'a//b' for 'cpus'"],
    ['ports:[1-2', "resources: unclosed '[' in the value of 'ports' (at position 6 in 'ports:[1-2')"],
    ['ports:[1-2;mem:1', "unclosed '[' in the value of 'ports' (at position 6 in 'ports:[1-2')"],
    ['zones:{a,b', "resources: unclosed '{' in the value of 'zones' (at position 6 in 'zones:{a,b')"],
    ['ports:[5-1]', "resources: range 5-1 of 'ports' has begin > end (at position 7 in 'ports:[5-1]')"],
    ['ports:[1-2, 9-3]', "range 9-3 of 'ports' has begin > end (at position 12 in 'ports:[1-2, 9-3]')"],
    ['ports:[1.5-2]', "resources: range bound 1.5 of 'ports' must be an integer (at position 7 in 'ports:[1.5-2]')"],
    ['ports:[1-2.0]', "range bound 2.0 of 'ports' must be an integer"],
    ['ports:[-1-5]', "range bound -1 of 'ports' must not be negative"],
    ['ports:[a-b]', "bad range bound 'a' in 'ports'"],
    ['ports:[1-2,,3]', "empty range in 'ports' (at position 11"],
    ['ports:[70000]', "resources: port 70000 is out of range 0..65535 (at position 7 in 'ports:[70000]')"],
    ['ports:[1-65536]', 'port 65536 is out of range 0..65535'],
    ['zones:{a,a}', "resources: duplicate item 'a' in the set 'zones' (at position 9 in 'zones:{a,a}')"],
    ['zones:{a,,b}', "empty item in the set 'zones'"],
    ['zones:{a b}', "bad item 'a b' in the set 'zones'"],
    ['x:1;x:[1-2]', "resources: 'x' is used as both scalar and ranges (at position 4 in 'x:[1-2]')"],
    ['x(r):{a};x:1', "'x' is used as both set and scalar"],
    ['cpus:[1-2]', "resources: 'cpus' must be scalar, not ranges (at position 5 in 'cpus:[1-2]')"],
    ['mem:{a}', "'mem' must be scalar, not set"],
    ['ports:80', "'ports' must be ranges, not scalar"],
    ['gpus:0.5', "'gpus' must be a whole number, got 0.5"],
  ])('rejects %j', (input, message) => {
    const err = thrown(() => P(input));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(err.field).toBe('resources');
    expect(err.message).toContain(message);
  });

  it('uses the field the caller passes', () => {
    const err = thrown(() => Resources.parse('cpus:x', 'tasks[0].resources'));
    expect(err.field).toBe('tasks[0].resources');
    expect(err.message).toMatch(/^tasks\[0\]\.resources: /);
    expect(thrown(() => parseResources('cpus:x', 'f')).field).toBe('f');
    expect(err.details).toMatchObject({ position: 5, fragment: 'cpus:x' });
  });

  it('rejects non-strings', () => {
    expect(() => Resources.parse(42 as unknown as string)).toThrow(/expected resource text/);
  });
});

describe('fixed point', () => {
  it('adds 0.1 and 0.2 to exactly 0.3', () => {
    const sum = P('cpus:0.1').add(P('cpus:0.2'));
    expect(sum.scalar('cpus')).toBe(0.3);
    expect(sum.equals(P('cpus:0.3'))).toBe(true);
  });

  it('adds 0.1 ten thousand times, subtracts it as often, and ends at exactly zero', () => {
    const tenth = P('cpus:0.1');
    let r = Resources.EMPTY;
    for (let i = 0; i < 10_000; i++) r = r.add(tenth);
    expect(r.scalar('cpus')).toBe(1000);
    for (let i = 0; i < 10_000; i++) r = r.subtract(tenth);
    expect(r.isEmpty()).toBe(true);
    expect(r.scalar('cpus')).toBe(0);
  });

  it('keeps a + b - b == a over random sequences', () => {
    const rand = seeded(7);
    const pick = (): Resources =>
      Resources.fromScalars({ cpus: Math.round(rand() * 16_000) / 1000, mem: Math.floor(rand() * 4096) + rand() });
    let acc = P('cpus:0.001');
    for (let i = 0; i < 3000; i++) {
      const a = acc;
      const b = pick();
      acc = a.add(b);
      expect(acc.subtract(b).equals(a)).toBe(true);
      expect(acc.contains(b)).toBe(true);
      expect(acc.contains(a)).toBe(true);
      if (rand() < 0.5) acc = acc.subtract(b);
    }
  });

  it('rounds numbers from lists as their decimal text reads, half up', () => {
    expect(Resources.fromScalars({ cpus: 1.0005 }).format()).toBe('cpus:1.001');
    expect(Resources.fromScalars({ cpus: 0.1 + 0.2 }).format()).toBe('cpus:0.3');
    expect(Resources.fromScalars({ cpus: 1e-7 }).isEmpty()).toBe(true);
    expect(Resources.fromScalars({ cpus: 2.4444 }).scalar('cpus')).toBe(2.444);
  });

  it('formats without trailing zeros', () => {
    expect(P('cpus:1.500;mem:0.010').format()).toBe('cpus:1.5;mem:0.01');
  });
});

describe('arithmetic', () => {
  const agent = P('cpus:4;mem:8192;disk:10000;ports:[31000-32000];zones:{a,b}');

  it.each([
    ['cpus:1;mem:1024', 'cpus:3;mem:7168;disk:10000;ports:[31000-32000];zones:{a,b}'],
    ['ports:[31500]', 'cpus:4;mem:8192;disk:10000;ports:[31000-31499,31501-32000];zones:{a,b}'], // splits
    ['ports:[31000-32000]', 'cpus:4;mem:8192;disk:10000;zones:{a,b}'],
    ['zones:{b}', 'cpus:4;mem:8192;disk:10000;ports:[31000-32000];zones:{a}'],
    ['cpus:4;mem:8192;disk:10000;ports:[31000-32000];zones:{a,b}', ''],
    ['', 'cpus:4;mem:8192;disk:10000;ports:[31000-32000];zones:{a,b}'],
  ])('agent - %s = %s', (minus, expected) => {
    const left = agent.subtract(P(minus));
    expect(left.format()).toBe(expected);
    expect(left.add(P(minus)).equals(agent)).toBe(true);
  });

  it.each([
    ['cpus:5', 'cpus:1'],
    ['gpus:1', 'gpus:1'],
    ['ports:[31999-32001]', 'ports:[32001-32001]'],
    ['ports:[80]', 'ports:[80-80]'],
    ['zones:{c}', 'zones:{c}'],
    ['cpus(prod):1', 'cpus(prod):1'],
    ['cpus:4.001;mem:1', 'cpus:0.001'],
  ])('agent - %s throws, missing %s', (minus, missing) => {
    expect(agent.contains(P(minus))).toBe(false);
    expect(agent.subtractOrUndefined(P(minus))).toBeUndefined();
    const err = thrown(() => agent.subtract(P(minus)));
    expect(err).toBeInstanceOf(InsufficientResourcesError);
    expect(err.code).toBe('AGORA_FAILED_PRECONDITION');
    expect(err.details['missing']).toBe(missing);
    expect(err.message).toContain(`missing ${missing}`);
  });

  it('adds ranges and sets as unions', () => {
    expect(P('ports:[1-5]').add(P('ports:[3-10]')).format()).toBe('ports:[1-10]');
    expect(P('ports:[1-5]').add(P('ports:[6]')).format()).toBe('ports:[1-6]');
    expect(P('zones:{a}').add(P('zones:{b}')).format()).toBe('zones:{a,b}');
  });

  it('refuses to add a name with two types', () => {
    const err = thrown(() => P('x:1').add(P('x:[1-2]')));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toContain("'x' is used as both scalar and ranges");
  });

  it('keeps roles apart in add, subtract and contains', () => {
    const r = P('cpus:2;cpus(prod):3');
    expect(r.add(P('cpus(prod):1')).format()).toBe('cpus:2;cpus(prod):4');
    expect(r.subtract(P('cpus(prod):3')).format()).toBe('cpus:2');
    expect(r.contains(P('cpus:3'))).toBe(false); // prod's cpus do not count as unreserved
    expect(r.contains(P('cpus(prod):2.5'))).toBe(true);
    expect(r.contains(P('cpus(dev):1'))).toBe(false);
    expect(r.scalar('cpus')).toBe(5);
    expect(() => r.subtract(P('cpus:2.5'))).toThrow(InsufficientResourcesError);
  });

  it('returns operands unchanged for empty operands', () => {
    expect(agent.add(Resources.EMPTY)).toBe(agent);
    expect(Resources.EMPTY.add(agent)).toBe(agent);
    expect(agent.subtract(Resources.EMPTY)).toBe(agent);
    expect(agent.contains(Resources.EMPTY)).toBe(true);
    expect(Resources.EMPTY.contains(Resources.EMPTY)).toBe(true);
    expect(Resources.EMPTY.contains(P('cpus:1'))).toBe(false);
  });

  it('never mutates its operands', () => {
    const a = P('cpus:1;ports:[1-10]');
    const before = a.format();
    a.add(P('cpus:1;ports:[20]'));
    a.subtract(P('cpus:0.5;ports:[5]'));
    a.takePorts(3);
    a.toList()[1]!.ranges!.push({ begin: 99, end: 99 });
    expect(a.format()).toBe(before);
  });

  it('compares by value', () => {
    expect(P('cpus:1;mem:2').equals(P(' mem:2 ; cpus:1.000 '))).toBe(true);
    expect(P('cpus:1').equals(P('cpus(prod):1'))).toBe(false);
    expect(P('cpus:1').equals(P('cpus:1;mem:1'))).toBe(false);
    expect(P('ports:[1-2]').equals(P('ports:[1-3]'))).toBe(false);
    expect(P('zones:{a}').equals(P('zones:{b}'))).toBe(false);
  });

  it('sums many at once', () => {
    const parts = [P('cpus:0.1'), P('cpus:0.2;mem:1'), P('cpus(prod):1'), Resources.EMPTY];
    expect(Resources.sum(parts).format()).toBe('cpus:0.3;mem:1;cpus(prod):1');
    expect(Resources.sum([]).isEmpty()).toBe(true);
  });
});

describe('roles and selection', () => {
  const r = P('cpus:1;mem:100;cpus(prod):2;mem(prod):200;cpus(prod/web):4;cpus(dev):8;ports:[1-10];ports(prod):[20-30]');

  it('splits by role, unreserved first', () => {
    const split = r.splitByRole();
    expect([...split.keys()]).toEqual(['*', 'dev', 'prod', 'prod/web']);
    expect(split.get('prod')!.format()).toBe('cpus(prod):2;mem(prod):200;ports(prod):[20-30]');
    expect(Resources.sum(split.values()).equals(r)).toBe(true);
    expect(r.roles()).toEqual(['*', 'dev', 'prod', 'prod/web']);
  });

  it('selects reserved and unreserved parts', () => {
    expect(r.unreserved().format()).toBe('cpus:1;mem:100;ports:[1-10]');
    expect(r.reservedFor('dev').format()).toBe('cpus(dev):8');
    expect(r.reservedFor('nobody').isEmpty()).toBe(true);
    expect(r.reserved().add(r.unreserved()).equals(r)).toBe(true);
  });

  it('offers a role the unreserved part and its own (and its ancestors\') reservations', () => {
    expect(r.allocatableTo('prod').format()).toBe('cpus:1;mem:100;ports:[1-10];cpus(prod):2;mem(prod):200;ports(prod):[20-30]');
    expect(r.allocatableTo('prod/web').scalar('cpus')).toBe(1 + 2 + 4);
    expect(r.allocatableTo('production').scalar('cpus')).toBe(1);
    expect(r.allocatableTo('dev').scalar('cpus')).toBe(9);
  });

  it('flattens roles away, or onto one role', () => {
    expect(r.flatten().format()).toBe('cpus:15;mem:300;ports:[1-10,20-30]');
    expect(P('cpus:1;cpus(a):1').flatten('b').format()).toBe('cpus(b):2');
    expect(() => r.flatten('a b')).toThrow(InvalidArgumentError);
  });

  it('filters by name', () => {
    expect(r.filter(['cpus']).scalar('mem')).toBe(0);
    expect(r.filter(new Set(['mem'])).format()).toBe('mem:100;mem(prod):200');
    expect(r.filterBy((x) => x.type === 'ranges').format()).toBe('ports:[1-10];ports(prod):[20-30]');
    expect(r.filter(['cpus', 'mem', 'ports'])).toBe(r);
  });

  it('reads totals across roles', () => {
    expect(r.scalar('cpus')).toBe(15);
    expect(r.scalar('gpus')).toBe(0);
    expect(r.ranges('ports')).toEqual([
      { begin: 1, end: 10 },
      { begin: 20, end: 30 },
    ]);
    expect(r.count()).toBe(21);
    expect(r.names()).toEqual(['cpus', 'mem', 'ports']);
    expect([...scalarsOf(r)]).toEqual([
      ['cpus', 15],
      ['mem', 300],
    ]);
    expect(scalarsOf(r)).toBe(r.scalars()); // computed once
    expect(P('zones:{b};zones(x):{a,b}').set('zones')).toEqual(['a', 'b']);
  });
});

describe('ports', () => {
  const offer = P('cpus:1;ports:[31000-31001,31005-31006];ports(prod):[80-81]');

  it('takes the lowest ports, unreserved first', () => {
    const got = offer.takePorts(3)!;
    expect(got.ports).toEqual([31000, 31001, 31005]);
    expect(got.resources.format()).toBe('ports:[31000-31001,31005-31005]');
    expect(offer.subtract(got.resources).format()).toBe('cpus:1;ports:[31006-31006];ports(prod):[80-81]');
  });

  it('takes reserved ports once unreserved run out, keeping their role', () => {
    const got = offer.takePorts(5)!;
    expect(got.ports).toEqual([31000, 31001, 31005, 31006, 80]);
    expect(got.resources.format()).toBe('ports:[31000-31001,31005-31006];ports(prod):[80-80]');
    expect(offer.contains(got.resources)).toBe(true);
  });

  it('says undefined when there are too few, and takes nothing for zero', () => {
    expect(offer.takePorts(7)).toBeUndefined();
    expect(offer.takePorts(0)).toEqual({ ports: [], resources: Resources.EMPTY });
    expect(() => offer.takePorts(-1)).toThrow(InvalidArgumentError);
    expect(() => offer.takePorts(1.5)).toThrow(InvalidArgumentError);
  });

  it('picks given ports from whichever role holds them', () => {
    const got = offer.pickPorts([81, 31001, 31001])!;
    expect(got.ports).toEqual([81, 31001]);
    expect(got.resources.format()).toBe('ports:[31001-31001];ports(prod):[81-81]');
    expect(offer.pickPorts([31002])).toBeUndefined();
    expect(offer.pickPorts([])!.resources.isEmpty()).toBe(true);
    expect(() => offer.pickPorts([70000])).toThrow(/port 70000 is out of range/);
  });
});

describe('lists, text and JSON', () => {
  const samples = [
    '',
    'cpus:4;mem:8192;disk:10000;gpus:1;ports:[31000-32000,33000-33010]',
    'cpus:0.001;zones:{a,b,c};cpus(prod):2;mem(prod):1024;ports(prod/web):[80-80,443-443]',
    'aa:1;custom:[1-3];cpus(x):0.25',
  ];

  it.each(samples)('round-trips %j through text, list and JSON', (text) => {
    const r = P(text);
    expect(r.format()).toBe(text);
    expect(P(r.format()).equals(r)).toBe(true);
    expect(Resources.fromList(r.toList()).equals(r)).toBe(true);
    expect(Resources.fromList(JSON.parse(JSON.stringify(r)) as Resource[]).equals(r)).toBe(true);
    expect(String(r)).toBe(text);
  });

  it('lists plain objects, with the role only when reserved', () => {
    expect(P('cpus:0.5;ports(r):[1-2];zones:{a}').toList()).toEqual([
      { name: 'cpus', type: 'scalar', scalar: 0.5 },
      { name: 'zones', type: 'set', set: ['a'] },
      { name: 'ports', type: 'ranges', ranges: [{ begin: 1, end: 2 }], role: 'r' },
    ]);
  });

  it('accepts role "*" in lists as unreserved', () => {
    expect(Resources.fromList([{ name: 'cpus', type: 'scalar', scalar: 1, role: '*' }]).format()).toBe('cpus:1');
  });

  const bad: Array<[unknown, string, string]> = [
    [[{ name: '', type: 'scalar', scalar: 1 }], 'resources[0].name', 'empty resource name'],
    [[{ name: 'Cpu', type: 'scalar', scalar: 1 }], 'resources[0].name', "invalid resource name 'Cpu'"],
    [[{ name: 'cpus', type: 'scalar' }], 'resources[0].scalar', "missing value for 'cpus'"],
    [[{ name: 'cpus', type: 'scalar', scalar: -1 }], 'resources[0].scalar', '-1 is negative'],
    [[{ name: 'cpus', type: 'scalar', scalar: NaN }], 'resources[0].scalar', 'NaN is not a number'],
    [[{ name: 'cpus', type: 'scalar', scalar: Infinity }], 'resources[0].scalar', 'Infinity is not finite'],
    [[{ name: 'cpus', type: 'scalar', scalar: '1' }], 'resources[0].scalar', 'is not a number'],
    [[{ name: 'cpus', type: 'scalar', scalar: 1e300 }], 'resources[0].scalar', 'is too large'],
    [[{ name: 'cpus', type: 'bogus', scalar: 1 }], 'resources[0].type', "must be scalar, ranges or set, got 'bogus'"],
    [[{ name: 'cpus', type: 'ranges', ranges: [] }], 'resources[0].type', "'cpus' must be scalar, not ranges"],
    [[{ name: 'cpus', type: 'scalar', scalar: 1, role: '' }], 'resources[0].role', "invalid role ''"],
    [[{ name: 'ports', type: 'ranges' }], 'resources[0].ranges', "missing value for 'ports'"],
    [[{ name: 'ports', type: 'ranges', ranges: [{ begin: 5, end: 1 }] }], 'resources[0].ranges[0]', 'has begin > end'],
    [[{ name: 'ports', type: 'ranges', ranges: [{ begin: 1.5, end: 2 }] }], 'resources[0].ranges[0]', 'must be an integer'],
    [[{ name: 'ports', type: 'ranges', ranges: [{ begin: 1, end: 70000 }] }], 'resources[0].ranges[0]', 'port 70000 is out of range'],
    [[{ name: 'ports', type: 'ranges', ranges: [{ begin: 1 }] }], 'resources[0].ranges[0]', 'needs numeric begin and end'],
    [[{ name: 'z', type: 'set', set: ['a', 'a'] }], 'resources[0].set[1]', "duplicate item 'a'"],
    [[{ name: 'z', type: 'set', set: ['a,b'] }], 'resources[0].set[0]', "bad item 'a,b'"],
    [
      [
        { name: 'x', type: 'scalar', scalar: 1 },
        { name: 'x', type: 'set', set: ['a'] },
      ],
      'resources[1].type',
      "'x' is used as both scalar and set",
    ],
    [[null], 'resources[0]', 'expected a resource object'],
    [42, 'resources', 'expected a list of resources'],
  ];

  it.each(bad)('fromList rejects %j', (list, field, message) => {
    const err = thrown(() => Resources.fromList(list as Resource[]));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it('builds from a record of scalars', () => {
    expect(Resources.fromScalars({ mem: 128, cpus: 0.5 }).format()).toBe('cpus:0.5;mem:128');
    expect(Resources.fromScalars({ cpus: 1 }, 'prod').format()).toBe('cpus(prod):1');
  });
});

describe('validateTaskResources', () => {
  it('returns the value for good input of every shape', () => {
    expect(validateTaskResources('cpus:0.1;mem:32').format()).toBe('cpus:0.1;mem:32');
    expect(validateTaskResources([{ name: 'cpus', type: 'scalar', scalar: 0.1 }]).format()).toBe('cpus:0.1');
    const r = P('cpus:1');
    expect(validateTaskResources(r)).toBe(r);
  });

  it.each([
    ['cpus:0;mem:32', 'resources.cpus', 'must be positive'],
    ['cpus:0.0001', 'resources.cpus', 'must be positive (at least 0.001)'],
    ['cpus:1;ports:[]', 'resources.ports', 'must not be empty'],
    ['cpus:1;zones:{}', 'resources.zones', 'must not be empty'],
    ['', 'resources', 'a task must ask for some resources'],
    ['cpus:-1', 'resources', "'-1' is negative"],
  ])('rejects %j naming %s', (text, field, message) => {
    const err = thrown(() => validateTaskResources(text));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it.each([
    [0, 'must be positive, got 0'],
    [-0.5, 'must be positive, got -0.5'],
    [NaN, 'must be a finite number, got NaN'],
    [Infinity, 'must be a finite number, got Infinity'],
    [undefined, 'must be a finite number, got undefined'],
  ])('rejects a listed cpus of %s', (scalar, message) => {
    const err = thrown(() => validateTaskResources([{ name: 'cpus', type: 'scalar', scalar } as Resource], 'tasks[0].resources'));
    expect(err.field).toBe('tasks[0].resources.cpus');
    expect(err.message).toContain(message);
  });

  it('rejects an empty value', () => {
    expect(thrown(() => validateTaskResources(Resources.EMPTY)).field).toBe('resources');
    expect(thrown(() => validateTaskResources([])).message).toContain('a task must ask for some resources');
  });
});
