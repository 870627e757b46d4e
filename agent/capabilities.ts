// What this agent can run beyond plain commands, found by asking: the Docker engine is pinged at
// start and every --docker-check-interval, and the answer becomes the DOCKER capability, which
// rides on registration (AgentInfo.capabilities) and, when it changes, on a CapabilitiesUpdate.
//
//   start ──► ping ──► DOCKER or not ──► (timer) ──► ping ──► changed? ──► onChange(capabilities)
//
// Frameworks place image tasks only on agents with DOCKER, and the master refuses them elsewhere.
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AgentCapability__Output as AgentCapability } from '../proto/index.js';

export interface CapabilityWatchDeps {
  /** Ask the engine: undefined when it answers, else why not. */
  readonly ping: () => Promise<string | undefined>;
  /** Where the engine is, for the log. */
  readonly endpoint: string;
  readonly clock: Clock;
  /** 0: check only at start. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly onChange: (capabilities: readonly AgentCapability[]) => void;
}

export class CapabilityWatch {
  #capabilities: readonly AgentCapability[] = [];
  #why: string | undefined;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #checked = false;

  constructor(private readonly deps: CapabilityWatchDeps) {}

  get capabilities(): readonly AgentCapability[] {
    return this.#capabilities;
  }

  /** Why the agent runs no containers ('' when it does). */
  get dockerProblem(): string {
    return this.#why ?? '';
  }

  /** The first check, awaited, so the first registration carries its answer; then the timer. */
  async start(): Promise<void> {
    await this.check();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Ping now; after the first check, calls onChange when the agent gains or loses DOCKER. */
  async check(): Promise<void> {
    const why = await this.deps.ping().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (this.#stopped) return;
    const first = !this.#checked;
    const had = this.#capabilities.includes('DOCKER');
    const has = why === undefined;
    this.#checked = true;
    this.#why = why;
    this.#capabilities = Object.freeze(has ? (['DOCKER'] as const) : []);
    if (has && !had) this.deps.logger.info({ endpoint: this.deps.endpoint }, 'docker engine answers: this agent runs containers');
    // No engine at start is how the machine is (info: agora up prints it too); losing one is news (warn).
    if (!has && first) this.deps.logger.info({ endpoint: this.deps.endpoint, why }, 'no docker engine answers: this agent runs no containers');
    if (!has && had) this.deps.logger.warn({ endpoint: this.deps.endpoint, why }, 'docker engine unreachable: this agent runs no containers');
    if (!first && has !== had) this.deps.onChange(this.#capabilities);
  }

  #schedule(): void {
    if (this.#stopped || this.deps.intervalMs <= 0) return;
    this.#timer = this.deps.clock.setTimeout(() => {
      void this.check()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'docker check failed'))
        .finally(() => this.#schedule());
    }, this.deps.intervalMs);
  }
}
