// The services framework's options, as its host (`agora frameworks`, `agora up`) passes them: the
// ones every framework takes (frameworks/framework-options.ts) and its own.
import type { FrameworkState } from '../../sdk/state.js';
import type { MeasureUsage } from './autoscaler.js';
import type { FrameworkOptions } from '../framework-options.js';
import type { ServiceController } from '../workload.js';
import type { ReportsFigures } from '../workload-figures.js';

/** The name the services framework registers with (and its state lives under). */
export const SERVICES_FRAMEWORK_NAME = 'agora-services';

export interface ServicesOptions extends FrameworkOptions {
  /** This framework's state (specs, versions, deployments, task ids); shared by its instances. */
  readonly state: FrameworkState;
  /** The role services run as unless their spec names one (default '*'). */
  readonly role?: string;
  /** How often every service is re-planned even when nothing happened (default 1000 ms). */
  readonly tickMs?: number;
  /** A task healthy for this long resets its service's restart backoff (default 60 s). */
  readonly backoffResetSeconds?: number;
  /** How often services with `autoscale` are measured and scaled (default 15 s). */
  readonly autoscaleIntervalMs?: number;
  /** Reads the tasks' utilisation (the host's frameworks/task-usage.ts); absent = no autoscaling. */
  readonly measureUsage?: MeasureUsage;
}

export type ServicesHandle = ServiceController & ReportsFigures & {
  /** Stop acting: close the driver (the framework stays registered; its tasks keep running). */
  stop(): Promise<void>;
};

