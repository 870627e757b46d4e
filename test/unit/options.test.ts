import { describe, expect, it } from 'vitest';
import { compileOptions, formatDuration, opt, parseAddress, parseDuration } from '../../core/options.js';
import { compileMasterOptions } from '../../master/options.js';

const spec = {
  allocationInterval: opt.duration('--allocation-interval', 'how often the allocator runs', '1s', { minMs: 1 }),
  httpPort: opt.port('--http-port', 'operator HTTP port', 5050),
  executor: opt.oneOf('--executor', 'default executor', ['process', 'docker', 'fake'] as const, 'process'),
  zk: opt.string('--zk', 'ZooKeeper URL', undefined, { re: /^zk:\/\//, hint: 'zk://host:port/path' }),
  verbose: opt.bool('--verbose', 'log more'),
};

describe('compileOptions', () => {
  it('fills defaults, parses given values and freezes the result', () => {
    const o = compileOptions(spec, { zk: 'zk://127.0.0.1:2181/agora', httpPort: '0', verbose: 'yes' });
    expect(o).toEqual({ allocationInterval: 1000, httpPort: 0, executor: 'process', zk: 'zk://127.0.0.1:2181/agora', verbose: true });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it.each([
    [{ zk: 'zk://a:1/x', allocationInterval: 'soon' }, "--allocation-interval: expected a duration such as 500ms, 1s, 2m, 1h or 7d, got 'soon'"],
    [{ zk: 'zk://a:1/x', allocationInterval: '0' }, "--allocation-interval: must be at least 1ms, got '0'"],
    [{ zk: 'zk://a:1/x', httpPort: '70000' }, '--http-port: must be at most 65535, got 70000'],
    [{ zk: 'zk://a:1/x', httpPort: '12ab' }, "--http-port: expected an integer, got '12ab'"],
    [{ zk: 'zk://a:1/x', executor: 'vm' }, "--executor: expected one of process, docker, fake, got 'vm'"],
    [{ zk: 'zk://a:1/x', verbose: 'maybe' }, "--verbose: expected true or false, got 'maybe'"],
    [{ zk: 'http://a' }, "--zk: expected zk://host:port/path, got 'http://a'"],
    [{}, '--zk: is required'],
  ])('names the flag in the error: %j', (raw, message) => {
    expect(() => compileOptions(spec, raw)).toThrow(message);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['0', 0],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', '-1s', '1 s', 's', '1y', '1e3s'])('rejects %j', (text) => {
    expect(() => parseDuration(text, '--x')).toThrow(/--x: expected a duration/);
  });

  it('formats back to the largest whole unit', () => {
    expect(formatDuration(604_800_000)).toBe('1w');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('addresses', () => {
  it.each([
    ['127.0.0.1:5051', '127.0.0.1:5051'],
    [':5051', '127.0.0.1:5051'],
    ['5051', '127.0.0.1:5051'],
    ['http://master.example:5050/', 'master.example:5050'],
    ['[::1]:5051', '[::1]:5051'],
  ])('%s → %s', (text, want) => expect(parseAddress(text)).toBe(want));

  it.each(['', 'host', 'host:port', 'a:99999'])('rejects %j naming the field', (text) => {
    expect(() => parseAddress(text, '--master')).toThrow(/--master: /);
  });
});

describe('the master’s dashboard flags', () => {
  it('takes --jobs-api as a URL or host:port, and --usage-history-* with their defaults', () => {
    expect(compileMasterOptions({})).toMatchObject({ jobsApi: undefined, usageHistoryInterval: 10_000, usageHistorySize: 360 });
    expect(compileMasterOptions({ jobsApi: 'https://10.0.0.1:5060', usageHistoryInterval: '0' })).toMatchObject({ jobsApi: 'https://10.0.0.1:5060', usageHistoryInterval: 0 });
    expect(compileMasterOptions({ jobsApi: 'frameworks.internal:5060' }).jobsApi).toBe('frameworks.internal:5060');
    expect(compileMasterOptions({ jobsApi: 'http://10.0.0.1:5060', insecure: true }).jobsApi).toBe('http://10.0.0.1:5060');
  });

  it.each([
    [{ jobsApi: 'javascript:alert(1)' }, "--jobs-api: expected https://host:port, got 'javascript:alert(1)'"],
    [{ jobsApi: 'https://h:1/api' }, "--jobs-api: expected https://host:port, got 'https://h:1/api'"],
    [{ usageHistorySize: '0' }, '--usage-history-size: must be at least 1'],
    [{ jobsApi: 'http://10.0.0.1:5060' }, "--jobs-api: 'http://10.0.0.1:5060' is plain http"],
  ])('names the flag in the error: %j', (raw, message) => {
    expect(() => compileMasterOptions(raw)).toThrow(message);
  });
});
