// The services framework's options, as its host (`agora frameworks`, `agora up`) passes them.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { DriverOptions } from '../../sdk/options.js';
import type { FrameworkState } from '../../sdk/state.js';
import type { ServiceController } from '../workload.js';

/** The name the services framework registers with (and its state lives under). */
export const SERVICES_FRAMEWORK_NAME = 'agora-services';

export interface ServicesOptions {
  /** The masters: `host:port`, a list, or `zk://h1:2181,h2:2181/agora`. */
  readonly master: string | readonly string[];
  /** This framework's state (specs, versions, deployments, task ids); shared by its instances. */
  readonly state: FrameworkState;
  /** Cluster name, for ZooKeeper discovery (default 'default'). */
  readonly cluster?: string;
  /** The role services run as unless their spec names one (default '*'). */
  readonly role?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Where the Jobs API is served, advertised in FrameworkInfo.apiUrl. */
  readonly apiUrl?: string;
  /** How often every service is re-planned even when nothing happened (default 1000 ms). */
  readonly tickMs?: number;
  /** A task healthy for this long resets its service's restart backoff (default 60 s). */
  readonly backoffResetSeconds?: number;
  /** Driver settings for tests and tuning (reconnect, heartbeats, reconciliation, call timeout). */
  readonly driver?: Pick<DriverOptions, 'reconnect' | 'heartbeatMisses' | 'reconcile' | 'callTimeoutMs' | 'random'>;
  /** Give up starting if not subscribed within this long (default 60 s). */
  readonly waitSubscribedMs?: number;
}

export type ServicesHandle = ServiceController & {
  /** Stop acting: close the driver (the framework stays registered; its tasks keep running). */
  stop(): Promise<void>;
};

