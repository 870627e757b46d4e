// The endpoints of every service, kept current from the in-process Jobs API: a watch of SERVICE
// (ENDPOINTS carries a service's full new list, ADDED / MODIFIED its status, DELETED its end),
// opened when the host's registry gains the services framework (the host was elected) and closed
// with it (leadership lost: the registry is cleared and the watch ends). Until the current list has
// been read, and while no term is open, `current()` is undefined and the server answers REFUSED.
import type { Logger } from '../../core/logger.js';
import type { Principal } from '../../core/security/principal.js';
import type { Endpoint, WatchEvent } from '../../proto/index.js';
import type { ControllerRegistry, JobsApi } from '../api/index.js';
import type { ServiceEndpoints } from './answers.js';

/**
 * Who the follower is to the Jobs API: code in this process, not a caller who authenticated (hence
 * `insecure`), that may read services and nothing else.
 */
const DNS_PRINCIPAL: Principal = Object.freeze({ name: 'agora-dns', via: 'insecure', grants: Object.freeze([{ action: 'jobs.read' as const, objects: ['SERVICE'] }]) });

export class EndpointFollower {
  #services: Map<string, readonly Endpoint[]> | undefined;
  #unwatch: (() => void) | undefined;
  #term = 0;
  readonly #offSet: () => void;

  constructor(
    readonly api: JobsApi,
    registry: ControllerRegistry,
    readonly logger: Logger,
  ) {
    this.#offSet = registry.onSet((kind) => {
      if (kind === 'SERVICE') this.#open();
    });
    if (registry.has('SERVICE')) this.#open();
  }

  /** The endpoints by service, or undefined while this instance serves none. */
  current(): ServiceEndpoints | undefined {
    return this.#services;
  }

  close(): void {
    this.#offSet();
    this.#end();
  }

  #open(): void {
    this.#end();
    const term = ++this.#term;
    let held: WatchEvent[] | undefined = [];
    const services = new Map<string, readonly Endpoint[]>();
    try {
      this.#unwatch = this.api.watch(DNS_PRINCIPAL, { kinds: ['SERVICE'], names: [], sendInitial: false }, {
        send: (e) => (held ? held.push(e) : applyEvent(services, e)),
        end: () => {
          if (term === this.#term) this.#end();
        },
      });
    } catch (err) {
      this.logger.warn({ err }, 'cannot watch the services: not answering');
      return;
    }
    void this.api.list(DNS_PRINCIPAL, ['SERVICE']).then(
      (workloads) => {
        if (term !== this.#term) return;
        for (const w of workloads) services.set(w.name ?? '', w.serviceStatus?.endpoints ?? []);
        for (const e of held ?? []) applyEvent(services, e);
        held = undefined;
        this.#services = services;
        this.logger.info({ services: services.size }, 'answering for the services');
      },
      (err: unknown) => {
        if (term === this.#term) this.logger.warn({ err }, 'cannot list the services: not answering');
      },
    );
  }

  #end(): void {
    this.#term += 1;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#services = undefined;
  }
}

export function applyEvent(services: Map<string, readonly Endpoint[]>, e: WatchEvent): void {
  const name = e.name ?? '';
  if (e.type === 'DELETED') services.delete(name);
  else if (e.type === 'ENDPOINTS') services.set(name, e.endpoints ?? []);
  // ENDPOINTS is the word on endpoints; a workload event only makes a service known.
  else if (e.type === 'ADDED' || e.type === 'MODIFIED') services.set(name, services.get(name) ?? e.object?.serviceStatus?.endpoints ?? []);
}
