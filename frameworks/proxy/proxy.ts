// The service proxy: an L4 (TCP) load balancer inside the frameworks host, as marathon-lb or
// kube-proxy in userspace mode. While the host leads it follows the services through the Jobs
// API's watch (in-process: ADDED / MODIFIED carry a service's spec and endpoints, ENDPOINTS the
// new list the moment it changes, DELETED its end), listens on each service's `servicePort`, and
// relays each new connection to one of the service's available endpoints (services/views.ts
// endpointsOf: running, healthy and ready where checked, not being stopped).
//
//   JobsApi watch ─► #services (name → port, Balancer) ─► #sync ─► PortListener per port ─► relay ─► instance
//
// A removed endpoint gets no new connection; its open ones are left to finish (the instance's own
// kill grace period ends them when it is being stopped). Leadership lost: the watch ends, every
// listener closes, open connections drain.
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import type { Endpoint, WatchEvent, Workload } from '../../proto/index.js';
import type { ControllerRegistry } from '../api/registry.js';
import { openWatch } from '../api/watch.js';
import { Balancer, type Target } from './balancer.js';
import { PortListener } from './listener.js';
import { ProxyMetrics } from './metrics.js';
import type { ProxySettings } from './options.js';

/** After a port could not be had (in use), try again this often while the service wants it. */
const RETRY_LISTEN_MS = 1000;

interface ServiceEntry {
  port: number | undefined;
  readonly balancer: Balancer;
}

export class ServiceProxy {
  readonly #services = new Map<string, ServiceEntry>();
  readonly #listeners = new Map<number, PortListener>();
  /** Ports being opened (listen not yet resolved), so one sync does not open them twice. */
  readonly #opening = new Set<number>();
  /** Ports that could not be had: left alone until the retry timer, not tried again by every sync. */
  readonly #failed = new Set<number>();
  readonly #metrics: ProxyMetrics;
  #stopWatch: (() => void) | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly settings: ProxySettings,
    private readonly logger: Logger,
    metricsRegistry: Registry,
  ) {
    this.#metrics = new ProxyMetrics(metricsRegistry);
  }

  /** Follow the services of `controllers` (the host leads and serves SERVICE) until it is cleared. */
  follow(controllers: ControllerRegistry): void {
    if (this.#closed || !controllers.has('SERVICE')) return;
    this.#stopWatch?.();
    this.#stopWatch = openWatch(controllers, { kinds: ['SERVICE'], names: [], sendInitial: true }, { send: (e) => this.#event(e), end: (err) => this.#ended(err?.message) });
  }

  /** Ports listened on now, with the service on each. */
  listening(): { port: number; service: string }[] {
    return [...this.#listeners.values()].map((l) => ({ port: l.port, service: l.service }));
  }

  #event(e: WatchEvent): void {
    const name = e.name ?? '';
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.#workload(name, e.object ?? undefined);
    else if (e.type === 'ENDPOINTS') this.#entry(name).balancer.set(targetsOf(e.endpoints ?? []));
    else if (e.type === 'DELETED') this.#services.delete(name);
    this.#sync();
  }

  #workload(name: string, w: Workload | undefined): void {
    const entry = this.#entry(name);
    entry.port = w?.service?.servicePort ?? undefined;
    entry.balancer.set(targetsOf(w?.serviceStatus?.endpoints ?? []));
  }

  #entry(name: string): ServiceEntry {
    let entry = this.#services.get(name);
    if (!entry) this.#services.set(name, (entry = { port: undefined, balancer: new Balancer() }));
    return entry;
  }

  #ended(reason: string | undefined): void {
    this.#stopWatch = undefined;
    this.#services.clear();
    this.logger.info({ reason }, 'proxy stopped following services: closing its ports');
    this.#sync();
  }

  /** The port → service wanted now (by name order where two claim one port: the first keeps it). */
  #wanted(): Map<number, string> {
    const wanted = new Map<number, string>();
    for (const name of [...this.#services.keys()].sort()) {
      const port = this.#services.get(name)?.port;
      if (port === undefined) continue;
      const holder = wanted.get(port);
      if (holder === undefined) wanted.set(port, name);
      else this.logger.warn({ port, service: name, holder }, 'proxy: servicePort claimed twice, the first service keeps it');
    }
    return wanted;
  }

  /** Close the listeners no longer wanted, open the missing ones. */
  #sync(): void {
    const wanted = this.#closed ? new Map<number, string>() : this.#wanted();
    for (const [port, listener] of this.#listeners) {
      if (wanted.get(port) === listener.service) continue;
      listener.close();
      this.#listeners.delete(port);
      this.logger.info({ port, service: listener.service }, 'proxy port closed');
    }
    for (const [port, service] of wanted) {
      if (!this.#listeners.has(port) && !this.#opening.has(port) && !this.#failed.has(port)) void this.#open(port, service);
    }
  }

  async #open(port: number, service: string): Promise<void> {
    const { settings } = this;
    const listener = new PortListener(port, service, {
      bind: settings.proxyBind,
      maxConnections: settings.proxyMaxConnections,
      relay: { connectTimeoutMs: settings.proxyConnectTimeout, idleTimeoutMs: settings.proxyIdleTimeout },
      metrics: this.#metrics,
      logger: this.logger,
      balancerOf: (name) => this.#services.get(name)?.balancer,
    });
    this.#opening.add(port);
    try {
      await listener.listen();
      this.#listeners.set(port, listener);
      this.logger.info({ port, service, bind: settings.proxyBind }, 'proxy listening');
    } catch (err) {
      this.logger.error({ err, port, service, retryMs: RETRY_LISTEN_MS }, 'proxy cannot listen on a servicePort: trying again');
      this.#failed.add(port);
      this.#retryLater();
    } finally {
      this.#opening.delete(port);
    }
    // Things moved while it opened: put the listeners right again.
    this.#sync();
  }

  #retryLater(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#failed.clear();
      this.#sync();
    }, RETRY_LISTEN_MS);
    this.#retry.unref();
  }

  /** The host stops: no more ports, open connections cut. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#stopWatch?.();
    this.#stopWatch = undefined;
    for (const listener of this.#listeners.values()) listener.close(true);
    this.#listeners.clear();
    this.#services.clear();
  }
}

/** Where an endpoint is reached: its agent's IP (else hostname) and its first port. */
export function targetsOf(endpoints: readonly Endpoint[]): Target[] {
  return endpoints.flatMap((e) => {
    const port = e.ports?.[0]?.number;
    const host = e.ip || e.host;
    return port && host ? [{ key: e.taskId ?? '', host, port: Number(port) }] : [];
  });
}
