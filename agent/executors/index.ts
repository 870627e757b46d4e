// The executors, chosen by kind:
//
//   createExecutor('process', { cgroups, pidsLimit })                                  ProcessExecutor  (process.ts, wrapper.ts, cgroups*.ts)
//   createExecutor('docker', { dockerSocket | dockerEndpoint, dockerPingTimeoutMs, allowPrivileged, pidsLimit, logLimits, portCheckTimeoutMs })  DockerExecutor   (docker*.ts)
//   createExecutor('fake', { clock })                                                  FakeExecutor     (fake.ts)
//
// All implement agent/executor.ts; the task manager never needs to know which one runs a task.
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { DockerEndpoint } from '../docker-endpoint.js';
import type { Executor, ExecutorKind } from '../executor.js';
import { detectCgroups, type Cgroups, type CgroupsOptions } from './cgroups.js';
import { DockerExecutor } from './docker.js';
import type { LogLimits } from './docker-spec.js';
import { FakeExecutor } from './fake.js';
import { ProcessExecutor } from './process.js';

export interface ExecutorOptions {
  readonly log?: Logger;
  /** Fake executor: the clock its tasks run on; default the system clock. */
  readonly clock?: Clock;
  /** Docker executor: the engine's API socket (a path, unix:///path or tcp://host:port); default /var/run/docker.sock. */
  readonly dockerSocket?: string;
  /** Docker executor: where the engine is, resolved (wins over dockerSocket). */
  readonly dockerEndpoint?: DockerEndpoint;
  /** Docker executor: how long the engine may take to answer a ping; default 5 s. */
  readonly dockerPingTimeoutMs?: number;
  /** Docker executor: --allow-privileged (privileged, cap-add, host-path volumes); default false. */
  readonly allowPrivileged?: boolean;
  /** Docker executor: the cap on the engine's own copy of a task's log (json-file max-size, max-file). */
  readonly logLimits?: LogLimits;
  /** Process and Docker executors: most processes and threads per task (--task-pids-limit); 0 or absent = none. */
  readonly pidsLimit?: number;
  /** Docker executor: --docker-port-check-timeout, how long published ports may take to answer. */
  readonly portCheckTimeoutMs?: number;
  /** Process executor: cgroup detection options, or a ready Cgroups (tests). */
  readonly cgroups?: CgroupsOptions | Cgroups;
}

export function createExecutor(kind: ExecutorKind, options: ExecutorOptions = {}): Executor {
  const log = options.log ?? silentLogger();
  switch (kind) {
    case 'process':
      return new ProcessExecutor({ cgroups: resolveCgroups(options.cgroups), log, pidsLimit: options.pidsLimit ?? 0 });
    case 'docker':
      return new DockerExecutor({
        log,
        allowPrivileged: options.allowPrivileged ?? false,
        ...(options.logLimits ? { logLimits: options.logLimits } : {}),
        pidsLimit: options.pidsLimit ?? 0,
        ...(options.portCheckTimeoutMs === undefined ? {} : { portCheckTimeoutMs: options.portCheckTimeoutMs }),
        ...(options.dockerSocket ? { socketPath: options.dockerSocket } : {}),
        ...(options.dockerEndpoint ? { endpoint: options.dockerEndpoint } : {}),
        ...(options.dockerPingTimeoutMs === undefined ? {} : { pingTimeoutMs: options.dockerPingTimeoutMs }),
      });
    case 'fake':
      return new FakeExecutor(options.clock ?? systemClock);
  }
}

function resolveCgroups(option: CgroupsOptions | Cgroups | undefined): Cgroups {
  if (option && 'create' in option) return option;
  return detectCgroups(option);
}

export { detectCgroups, cgroupName } from './cgroups.js';
export type { Cgroups, CgroupsOptions, CgroupRef, TaskCgroup } from './cgroups.js';
export { ProcessExecutor } from './process.js';
export { DockerExecutor } from './docker.js';
export { FakeExecutor } from './fake.js';
export { REASON_MEMORY, UNKNOWN_EXIT_MESSAGE } from './exit-status.js';
export { REASON_PULL_FAILED } from './docker.js';
export { REASON_LAUNCH_FAILED } from './failed-launch.js';
