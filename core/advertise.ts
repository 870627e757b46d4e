// The IP a master or an agent advertises (`--advertise-ip`): what others connect to — for an
// agent, the address its tasks' host ports answer at. Chosen once at start, as Mesos's
// `--advertise_ip` / Consul's `-advertise`: the flag; else `--hostname` when it is an IP; else the
// `--bind` address when it is a specific one; else the IPv4 of the interface the default route
// leaves by (as Consul picks its private address), else the first non-loopback IPv4.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { InvalidArgumentError } from './errors.js';

export interface AddressFlags {
  readonly advertiseIp?: string | undefined;
  readonly hostname: string;
  readonly bind: string;
}

/** Interfaces as `os.networkInterfaces()` gives them (a parameter, so tests can give their own). */
export type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

const UNSPECIFIED = new Set(['0.0.0.0', '::', '::0']);

export function isUnspecified(address: string): boolean {
  return UNSPECIFIED.has(address);
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}

/**
 * Check the address flags together and return the IP to advertise. Refused, naming the flag: an
 * advertised IP that is not an IP or is 0.0.0.0 / ::, a `--hostname` of 0.0.0.0 / :: (nobody can
 * connect to it), and a loopback `--bind` with a `--hostname` IP off loopback (others would be
 * told to connect where nothing listens for them).
 */
export function resolveAdvertiseIp(flags: AddressFlags, interfaces: Interfaces = os.networkInterfaces(), routeTable = readRouteTable()): string {
  const { hostname, bind } = flags;
  if (isUnspecified(hostname)) throw new InvalidArgumentError('--hostname', `'${hostname}' is where this process listens on every address, not one others can connect to: give this machine's name or IP`);
  if (bind.trim() === '') throw new InvalidArgumentError('--bind', 'must be an address (0.0.0.0 for every address)');
  const advertised = flags.advertiseIp?.trim();
  if (advertised !== undefined) {
    if (net.isIP(advertised) === 0) throw new InvalidArgumentError('--advertise-ip', `expected an IPv4 or IPv6 address, got '${advertised}'`);
    if (isUnspecified(advertised)) throw new InvalidArgumentError('--advertise-ip', `'${advertised}' is not an address others can connect to`);
  }
  if (isLoopback(bind)) {
    if (!isLoopback(hostname) && net.isIP(hostname) !== 0) throw new InvalidArgumentError('--bind', `listening on loopback (${bind}) while advertising --hostname ${hostname}: nothing would answer there; bind 0.0.0.0 or ${hostname}`);
  }
  if (advertised !== undefined) return advertised;
  if (net.isIP(hostname) !== 0) return hostname;
  if (net.isIP(bind) !== 0 && !isUnspecified(bind)) return bind;
  const found = defaultRouteIPv4(interfaces, routeTable) ?? firstExternalIPv4(interfaces);
  if (found === undefined) throw new InvalidArgumentError('--advertise-ip', 'this machine has no non-loopback IPv4 address to advertise: give one');
  return found;
}

/** The IPv4 of the interface the default route leaves by (/proc/net/route's text), if any. */
export function defaultRouteIPv4(interfaces: Interfaces, routeTable: string): string | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination !== '00000000' || mask !== '00000000') continue;
    const address = interfaces[iface]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
    if (address !== undefined) return address;
  }
  return undefined;
}

function readRouteTable(): string {
  try {
    return readFileSync('/proc/net/route', 'utf8');
  } catch {
    return ''; // not Linux: name order decides
  }
}

/** The first non-loopback IPv4 address, interfaces in name order (so the choice is stable). */
export function firstExternalIPv4(interfaces: Interfaces): string | undefined {
  for (const name of Object.keys(interfaces).sort()) {
    for (const a of interfaces[name] ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
