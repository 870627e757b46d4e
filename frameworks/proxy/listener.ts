// One service port: a TCP server on the proxy's bind address that hands each connection to
// relay.ts with the balancer of the service holding the port. Closing it stops new connections;
// the open ones finish on their own (drain) unless `destroy` is asked for.
import net from 'node:net';
import type { Logger } from '../../core/logger.js';
import type { Balancer } from './balancer.js';
import type { ProxyMetrics } from './metrics.js';
import { relay, type RelayOptions } from './relay.js';

export interface ListenerDeps {
  readonly bind: string;
  readonly maxConnections: number;
  readonly relay: RelayOptions;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** The balancer of `service` now (undefined: the service is gone; the connection is closed). */
  readonly balancerOf: (service: string) => Balancer | undefined;
}

export class PortListener {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    readonly service: string,
    private readonly deps: ListenerDeps,
  ) {
    this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
    this.#server.maxConnections = deps.maxConnections;
  }

  /** Resolves when listening; rejects when the port cannot be had (EADDRINUSE, EACCES). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.deps.bind, port: this.port, exclusive: true }, () => {
        this.#server.off('error', reject);
        this.#server.on('error', (err) => this.deps.logger.warn({ err, port: this.port, service: this.service }, 'proxy listener error'));
        resolve();
      });
    });
  }

  #accept(socket: net.Socket): void {
    const { metrics } = this.deps;
    const service = this.service;
    const balancer = this.deps.balancerOf(service);
    if (!balancer) {
      socket.destroy();
      return;
    }
    metrics.connections.inc({ service });
    metrics.active.inc({ service });
    this.#sockets.add(socket);
    relay(socket, balancer, this.deps.relay, {
      connectFailed: (target, err) => {
        metrics.connectFailures.inc({ service });
        this.deps.logger.debug({ service, taskId: target.key, err: err.message }, 'proxy connect failed: trying the next instance');
      },
      // Debug, not warn: a client retrying a service with no instance would fill the log.
      exhausted: (tried) => this.deps.logger.debug({ service, tried }, 'proxy: no instance took the connection'),
      closed: () => {
        this.#sockets.delete(socket);
        metrics.active.dec({ service });
      },
    });
  }

  /** Stop accepting; with `destroy`, also cut the open connections (the host stops). */
  close(destroy = false): void {
    this.#server.close();
    if (destroy) for (const s of this.#sockets) s.destroy();
  }

  get openConnections(): number {
    return this.#sockets.size;
  }
}
