// Open a Store from a URL:
//   zk://h1:2181,h2:2181/agora   ZooKeeper, everything under the chroot /agora
//   zk://user:pass@h1:2181/agora ZooKeeper with digest credentials: nodes created private to them
//   file:///var/lib/agora/store  embedded, persisted in that directory (a plain path works too)
//   memory:                      embedded, in memory, private to this store
//   memory://name                embedded, in memory, shared by every store opened with that name
// `options.chroot` is appended to the URL's chroot (zk) or is the chroot (embedded);
// `options.credentials` replace the URL's.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.js';
import { EmbeddedStore } from './embedded.js';
import { EmbeddedStoreServer, acquireFileServer, namedMemoryServer } from './embedded-server.js';
import { ZooKeeperStore } from './zookeeper.js';
import { normaliseChroot } from './paths.js';
import { parseUserinfo, redactStoreUrl, type StoreCredentials } from './credentials.js';
import type { Clock } from '../clock.js';
import type { Store, StoreOptions } from './store.js';

export * from './store.js';
export { StoreError } from './store-errors.js';
export { EmbeddedStore } from './embedded.js';
export { EmbeddedStoreServer } from './embedded-server.js';
export { ZooKeeperStore } from './zookeeper.js';
export { bySequence, sequenceOf, joinPath, parentOf, basename } from './paths.js';
export { storeCredentials, parseCredentials, readCredentialsFile, redactStoreUrl, type StoreCredentials } from './credentials.js';

export interface OpenStoreOptions extends StoreOptions {
  /** ZooKeeper: how long to wait for the first session. */
  readonly connectTimeoutMs?: number;
  /** Embedded: use this server instead of the one the URL names. */
  readonly server?: EmbeddedStoreServer;
  /** Embedded: the clock for node times and session timers. */
  readonly clock?: Clock;
}

export type StoreLocation =
  | { readonly kind: 'zookeeper'; readonly servers: string; readonly chroot: string; readonly credentials?: StoreCredentials }
  | { readonly kind: 'file'; readonly dir: string }
  | { readonly kind: 'memory'; readonly name: string | undefined };

/** Parse a store URL (see the top of this file); bad input names the `store` field. */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('zk://')) return parseZkUrl(url);
  if (url === 'memory:' || url === 'memory://') return { kind: 'memory', name: undefined };
  if (url.startsWith('memory://')) return { kind: 'memory', name: url.slice('memory://'.length) };
  if (url.startsWith('file:')) {
    try {
      return { kind: 'file', dir: fileURLToPath(url) };
    } catch (err) {
      throw new InvalidArgumentError('store', `'${redactStoreUrl(url)}' is not a valid file: URL (${(err as Error).message})`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new InvalidArgumentError('store', `unsupported store URL scheme in '${redactStoreUrl(url)}'`);
  if (url.trim() === '') throw new InvalidArgumentError('store', 'must not be empty');
  return { kind: 'file', dir: path.resolve(url) };
}

/** zk://[user:password@]host[:port][,host[:port]...][/chroot]; userinfo ends at the authority's last '@'. */
function parseZkUrl(url: string): StoreLocation {
  const rest = url.slice('zk://'.length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const chroot = slash === -1 ? '' : rest.slice(slash);
  const at = authority.lastIndexOf('@');
  const servers = authority.slice(at + 1);
  const hosts = servers.split(',');
  if (servers === '' || hosts.some((h) => !/^[A-Za-z0-9._-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(h))) {
    throw new InvalidArgumentError('store', `'${redactStoreUrl(url)}' must look like zk://[user:password@]host:port[,host:port...][/chroot]`);
  }
  const credentials = at === -1 ? undefined : parseUserinfo(authority.slice(0, at), 'store');
  return {
    kind: 'zookeeper',
    servers: hosts.map((h) => (/:\d+$/.test(h) ? h : `${h}:2181`)).join(','),
    chroot: normaliseChroot(chroot),
    ...(credentials ? { credentials } : {}),
  };
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  const extra = normaliseChroot(options.chroot);
  switch (location.kind) {
    case 'zookeeper': {
      const credentials = options.credentials ?? location.credentials;
      return ZooKeeperStore.open(location.servers, { ...options, chroot: location.chroot + extra, ...(credentials ? { credentials } : {}) });
    }
    case 'memory': {
      const server = options.server ?? (location.name === undefined ? EmbeddedStoreServer.memory(options.clock) : namedMemoryServer(location.name, options.clock));
      return EmbeddedStore.open(server, { ...options, chroot: extra });
    }
    case 'file': {
      if (options.server) return EmbeddedStore.open(options.server, { ...options, chroot: extra });
      const { server, release } = await acquireFileServer(location.dir, options.clock ? { clock: options.clock } : {});
      return EmbeddedStore.open(server, { ...options, chroot: extra, release });
    }
  }
}
