// Which instance of a service a new connection goes to (pure: no sockets, no timers). Least
// connections, ties broken round-robin: a proxy of long-lived connections (databases, streams,
// keep-alive HTTP) must not pile new ones on an instance still holding many, and with short
// connections every count is equal and it is plain round-robin (HAProxy's `leastconn`; kube-proxy
// in userspace mode was round-robin only). Counts of removed instances are kept until their
// connections close, so an instance that comes back is judged by what it still holds.
export interface Target {
  /** The task id: one instance. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
}

export class Balancer {
  #targets: readonly Target[] = [];
  readonly #active = new Map<string, number>();
  #turn = 0;

  /** The available instances now (the service's endpoints, in task-id order). */
  set(targets: readonly Target[]): void {
    this.#targets = targets;
  }

  get targets(): readonly Target[] {
    return this.#targets;
  }

  /** The instance with fewest open connections, not in `tried`; among equals the next in turn. */
  pick(tried: ReadonlySet<string> = new Set()): Target | undefined {
    const n = this.#targets.length;
    let best: Target | undefined;
    let bestCount = Infinity;
    for (let i = 0; i < n; i++) {
      const t = this.#targets[(this.#turn + i) % n] as Target;
      if (tried.has(t.key)) continue;
      const count = this.#active.get(t.key) ?? 0;
      if (count < bestCount) [best, bestCount] = [t, count];
    }
    if (n > 0) this.#turn = (this.#turn + 1) % n;
    return best;
  }

  /** A connection to `key` is open. */
  acquire(key: string): void {
    this.#active.set(key, (this.#active.get(key) ?? 0) + 1);
  }

  /** …and closed. */
  release(key: string): void {
    const left = (this.#active.get(key) ?? 0) - 1;
    if (left > 0) this.#active.set(key, left);
    else this.#active.delete(key);
  }

  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }
}
