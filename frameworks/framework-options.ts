// The options every built-in framework (services, cron, batch) takes from its host (`agora
// frameworks`, `agora up`), documented once; each framework's options extend them
// (services/options.ts, cron/framework.ts, batch/options.ts), and so do the shell's (shell.ts).
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { DriverOptions } from '../sdk/options.js';
import type { FrameworkState } from '../sdk/state.js';
import type { ValueResolver } from './common/value-refs.js';

/** Driver settings for tests and tuning (reconnect, heartbeats, reconciliation, call timeout). */
export type DriverTuning = Pick<DriverOptions, 'reconnect' | 'heartbeatMisses' | 'reconcile' | 'callTimeoutMs' | 'random'>;

export interface FrameworkOptions {
  /** The masters: `host:port`, a list, or `zk://h1:2181,h2:2181/agora`. */
  readonly master: string | readonly string[];
  /** The framework's own namespace, shared by its instances; the framework id is kept under the key 'framework'. */
  readonly state: FrameworkState;
  /** Cluster name, for ZooKeeper discovery (default 'default'). */
  readonly cluster?: string;
  /** The role its tasks run as (default '*'); what a spec may name is the framework's rule. */
  readonly role?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Where the Jobs API is served, advertised in FrameworkInfo.apiUrl. */
  readonly apiUrl?: string;
  readonly driver?: DriverTuning;
  /** Give up starting if not subscribed within this long (default 60 s). */
  readonly waitSubscribedMs?: number;
  /** Aborted while starting (the host stops or loses its leadership): give up subscribing at once. */
  readonly signal?: AbortSignal;
  /** How the framework reaches the master: TLS and its token (required unless `insecure`). */
  readonly access: FrameworkAccess;
  /** The user its tasks run as when a spec names none (FrameworkInfo.user; default the master's, nobody). */
  readonly taskUser?: string;
  /** A kill not answered within the task's grace period and this much more is sent again (default 10 s; common/kill-tracker.ts). */
  readonly killRetryMs?: number;
  /** Batch and cron: how long a task whose agent stopped answering keeps its place (default 5 min; common/durations.ts). */
  readonly unreachableTimeoutMs?: number;
  /**
   * The master refused the framework for good (another subscription with its id replaced this one,
   * or its id was removed): the driver has stopped. The host starts the frameworks afresh.
   */
  readonly onRefused?: (message: string) => void;
  /** The values of Secrets and Configs that tasks reference (envFrom, files), read at each launch. */
  readonly values?: ValueResolver;
}

/** The driver's credentials, or plaintext for a master started with --insecure. */
export type FrameworkAccess = Pick<DriverOptions, 'credentials' | 'insecure' | 'mayConnect'>;
