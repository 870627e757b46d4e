// The advertised IP's default and the address flags refused (core/advertise.ts), on given interfaces.
import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultRouteIPv4, firstExternalIPv4, resolveAdvertiseIp, type Interfaces } from '../../core/advertise.js';
import { compileMasterOptions } from '../../master/options.js';
import { thrown } from '../support/thrown.js';

function iface(address: string, family: 'IPv4' | 'IPv6', internal: boolean): os.NetworkInterfaceInfo {
  const common = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

const MACHINE: Interfaces = {
  lo: [iface('127.0.0.1', 'IPv4', true)],
  eth1: [iface('fe80::1', 'IPv6', false), iface('10.0.0.7', 'IPv4', false)],
  eth0: [iface('192.168.1.5', 'IPv4', false)],
};

const ROUTES = `Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT
eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0
`;

describe('advertised IP', () => {
  it('defaults: the flag, else --hostname when an IP, else a specific --bind, else the default route\'s IPv4, else the first external IPv4 by interface name', () => {
    expect(resolveAdvertiseIp({ advertiseIp: '10.1.1.1', hostname: 'node-1', bind: '0.0.0.0' }, MACHINE)).toBe('10.1.1.1');
    expect(resolveAdvertiseIp({ hostname: '127.0.0.1', bind: '127.0.0.1' }, MACHINE)).toBe('127.0.0.1');
    expect(resolveAdvertiseIp({ hostname: 'node-1', bind: '10.0.0.7' }, MACHINE)).toBe('10.0.0.7');
    expect(resolveAdvertiseIp({ hostname: 'node-1', bind: '0.0.0.0' }, MACHINE, '')).toBe('192.168.1.5');
    // The default route's interface first (a bridge that sorts earlier is no way out).
    expect(resolveAdvertiseIp({ hostname: 'node-1', bind: '0.0.0.0' }, MACHINE, ROUTES)).toBe('10.0.0.7');
    expect(defaultRouteIPv4(MACHINE, ROUTES)).toBe('10.0.0.7');
    expect(firstExternalIPv4({ lo: MACHINE['lo'] })).toBeUndefined();
  });

  it('refuses, naming the flag: an unspecified or malformed advertised address, loopback bind with an external hostname, no address to pick', () => {
    expect(thrown(() => resolveAdvertiseIp({ advertiseIp: '::', hostname: 'n', bind: '0.0.0.0' }, MACHINE)).field).toBe('--advertise-ip');
    expect(thrown(() => resolveAdvertiseIp({ advertiseIp: '10.0.0', hostname: 'n', bind: '0.0.0.0' }, MACHINE)).field).toBe('--advertise-ip');
    expect(thrown(() => resolveAdvertiseIp({ hostname: '::', bind: '0.0.0.0' }, MACHINE)).field).toBe('--hostname');
    expect(thrown(() => resolveAdvertiseIp({ hostname: '10.0.0.7', bind: '127.0.0.1' }, MACHINE)).field).toBe('--bind');
    expect(thrown(() => resolveAdvertiseIp({ hostname: 'n', bind: '0.0.0.0' }, { lo: MACHINE['lo'] }, ROUTES)).field).toBe('--advertise-ip');
  });

  it('masters: --advertise-ip is checked and resolved with their options', () => {
    expect(compileMasterOptions({}).advertiseIp).toBe('127.0.0.1');
    expect(compileMasterOptions({ hostname: 'm1', bind: '0.0.0.0', advertiseIp: '10.231.0.2' }).advertiseIp).toBe('10.231.0.2');
    expect(thrown(() => compileMasterOptions({ advertiseIp: 'm1' })).field).toBe('--advertise-ip');
  });
});
