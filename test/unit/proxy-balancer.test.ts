// The proxy's choice of instance (frameworks/proxy/balancer.ts) and its flags' defaults per command.
import { describe, expect, it } from 'vitest';
import { compileOptions } from '../../core/options.js';
import { UP_OPTIONS } from '../../cli/up-command.js';
import { compileFrameworksOptions } from '../../frameworks/host-options.js';
import { Balancer, type Target } from '../../frameworks/proxy/balancer.js';
import { targetsOf } from '../../frameworks/proxy/proxy.js';

const t = (key: string): Target => ({ key, host: '10.0.0.1', port: 8080 });

describe('Balancer', () => {
  it('is round-robin while every instance holds as many connections', () => {
    const b = new Balancer();
    b.set([t('a'), t('b'), t('c')]);
    expect(Array.from({ length: 6 }, () => b.pick()?.key)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('sends a new connection to the instance holding fewest', () => {
    const b = new Balancer();
    b.set([t('a'), t('b'), t('c')]);
    // a: 2 open, b: 1, c: 0 → c, then (c: 1) b or c by turn, never a.
    b.acquire('a');
    b.acquire('a');
    b.acquire('b');
    expect(b.pick()?.key).toBe('c');
    b.acquire('c');
    const next = b.pick()?.key;
    expect(['b', 'c']).toContain(next);
    b.release('a');
    b.release('a');
    expect(b.active('a')).toBe(0);
    expect(b.pick()?.key).toBe('a');
  });

  it('skips the instances already tried, and has none left after them', () => {
    const b = new Balancer();
    b.set([t('a'), t('b')]);
    expect(b.pick(new Set(['a']))?.key).toBe('b');
    expect(b.pick(new Set(['a', 'b']))).toBeUndefined();
    b.set([]);
    expect(b.pick()).toBeUndefined();
  });

  it('reaches an endpoint at its IP, else its host, on its first port; one without a port is skipped', () => {
    expect(
      targetsOf([
        { taskId: 'x', host: 'node1', ip: '10.0.0.7', ports: [{ number: 31001, name: 'http' }, { number: 31002, name: 'admin' }] },
        { taskId: 'y', host: 'node2', ip: '', ports: [{ number: 31003, name: 'http' }] },
        { taskId: 'z', host: 'node3', ip: '', ports: [] },
      ]),
    ).toEqual([
      { key: 'x', host: '10.0.0.7', port: 31001 },
      { key: 'y', host: 'node2', port: 31003 },
    ]);
  });
});

describe('proxy flags', () => {
  it('bind every interface in `agora frameworks`, loopback in `agora up`; --proxy false turns it off', () => {
    const frameworks = compileFrameworksOptions({ master: '127.0.0.1:5051' });
    expect({ proxy: frameworks.proxy, bind: frameworks.proxyBind, connect: frameworks.proxyConnectTimeout }).toEqual({ proxy: true, bind: '0.0.0.0', connect: 2000 });
    expect(compileOptions(UP_OPTIONS, {}).proxyBind).toBe('127.0.0.1');
    expect(compileFrameworksOptions({ master: '127.0.0.1:5051', proxy: 'false' }).proxy).toBe(false);
    expect(() => compileFrameworksOptions({ master: '127.0.0.1:5051', proxyMaxConnections: '0' })).toThrow(/--proxy-max-connections/);
  });
});
