// The built-in frameworks the host starts when elected, one module per kind of workload: services,
// cron and batch.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store/index.js';
import { FrameworkState } from '../sdk/state.js';
import type { FrameworkAccess, FrameworkOptions } from './framework-options.js';
import { BATCH_FRAMEWORK_NAME, startBatch } from './batch/index.js';
import { CRON_FRAMEWORK_NAME, startCron } from './cron/index.js';
import { SERVICES_FRAMEWORK_NAME, startServices } from './services/index.js';
import { taskUsageReader, type TaskUsageReaderOptions } from './task-usage.js';
import type { WorkloadController, WorkloadKind } from './workload.js';
import type { ValueResolver } from './common/value-refs.js';
import type { ReportsFigures } from './workload-figures.js';

export interface ModuleContext {
  /** The masters: host:port list or zk:// URL. */
  readonly master: string;
  readonly store: Store;
  readonly cluster: string;
  readonly role: string;
  /** Where the Jobs API is served (advertised to the master as FrameworkInfo.apiUrl). */
  readonly apiUrl: string;
  readonly clock?: Clock;
  readonly logger: Logger;
  /** How the frameworks reach the master (TLS and the host's token). */
  readonly access: FrameworkAccess;
  /** Who tasks run as when a spec names nobody. */
  readonly taskUser: string;
  /** Where the services autoscaler reads tasks' usage (the master's and agents' HTTP, the host's credentials), and how often. */
  readonly usage?: Omit<TaskUsageReaderOptions, 'logger'> & { readonly autoscaleIntervalMs: number };
  /** A framework was refused by the master for good (FrameworkOptions.onRefused). */
  readonly onRefused?: (message: string) => void;
  /** Aborted when the host stops or loses its leadership while this start is under way. */
  readonly signal?: AbortSignal;
  /** The values of Secrets and Configs tasks reference, read at each launch. */
  readonly values?: ValueResolver;
}

/** A started framework; `figures` feeds /metrics (metrics.ts), and every built-in framework has it. */
export type RunningController = WorkloadController & { stop(): Promise<void> } & Partial<ReportsFigures>;

export interface FrameworkModule {
  /** The framework's name with the master; its state lives under /<cluster>/frameworks/<name>. */
  readonly name: string;
  readonly kind: WorkloadKind;
  start(ctx: ModuleContext): Promise<RunningController>;
}

/** What every built-in framework is started with: the host's masters, access, role and defaults, and its own namespace of the store. */
export async function frameworkOptions(ctx: ModuleContext, name: string): Promise<FrameworkOptions & { cluster: string; role: string; apiUrl: string; logger: Logger; taskUser: string }> {
  return {
    master: ctx.master,
    state: await frameworkState(ctx, name),
    cluster: ctx.cluster,
    role: ctx.role,
    apiUrl: ctx.apiUrl,
    logger: ctx.logger,
    access: ctx.access,
    taskUser: ctx.taskUser,
    ...(ctx.onRefused ? { onRefused: ctx.onRefused } : {}),
    ...(ctx.clock ? { clock: ctx.clock } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.values ? { values: ctx.values } : {}),
  };
}

/** Its own namespace of the store for one framework. */
async function frameworkState(ctx: ModuleContext, name: string): Promise<FrameworkState> {
  const state = new FrameworkState(ctx.store, ctx.cluster, name);
  await ctx.store.mkdirp(state.root);
  return state;
}

export const servicesModule: FrameworkModule = {
  name: SERVICES_FRAMEWORK_NAME,
  kind: 'SERVICE',
  async start(ctx) {
    const usage = ctx.usage;
    const autoscaling = usage ? { measureUsage: taskUsageReader({ ...usage, logger: ctx.logger }), autoscaleIntervalMs: usage.autoscaleIntervalMs } : {};
    return startServices({ ...(await frameworkOptions(ctx, SERVICES_FRAMEWORK_NAME)), ...autoscaling });
  },
};

export const cronModule: FrameworkModule = {
  name: CRON_FRAMEWORK_NAME,
  kind: 'CRONJOB',
  async start(ctx) {
    return startCron(await frameworkOptions(ctx, CRON_FRAMEWORK_NAME));
  },
};

/** Run-to-completion jobs (kind Job), with the host's defaults (retry backoff, gang hold). */
export const batchModule: FrameworkModule = {
  name: BATCH_FRAMEWORK_NAME,
  kind: 'JOB',
  async start(ctx) {
    return startBatch(await frameworkOptions(ctx, BATCH_FRAMEWORK_NAME));
  },
};

/** Started in this order, stopped in reverse. */
export const FRAMEWORK_MODULES: readonly FrameworkModule[] = Object.freeze([servicesModule, cronModule, batchModule]);
