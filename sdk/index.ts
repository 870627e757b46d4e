// The public API of the Agora framework SDK. Framework authors import from here (`agora/sdk`);
// everything else in the repository is internal.
export { FrameworkDriver, type DriverState, type FrameworkHandlers, type StartOptions } from './driver.js';
export type { OfferRef, SchedulerDriver } from './driver-api.js';
export type { AckTarget, AcknowledgementRefused, CallFilters } from './calls.js';
export type { DriverCredentials, DriverOptions, FrameworkDescription } from './options.js';
export { discoverMasters, masterElectionPath, StaticDiscovery, ZooKeeperDiscovery, type MasterAdvert, type MasterDiscovery } from './discovery.js';
export { Reconciler, type KnownTask } from './reconciler.js';
export { RECOVERY_PROBE_PREFIX, type RecoverOptions, type RecoveryReport } from './recovery.js';
export type { AgentHandlers } from './agent-events.js';
export { FrameworkState, type Versioned } from './state.js';
export {
  matchOffers,
  PLACEMENT_STRATEGIES,
  type PlacementStrategy,
  type PendingTask,
  type PortRequest,
  type MatchOptions,
  type MatchResult,
  type Launch,
  type Unplaced,
  type Rejection,
  type TaskPlacement,
} from './offers.js';
export * from './constraints.js';
export * from './decline.js';
export { isAuthoritativeEnd, isInferredEnd } from './task-ends.js';
export { classifyEnd, neverRan, type TaskEnd, type TaskOutcome } from './task-outcome.js';
export { electFrameworkLeader, frameworkElectionPath, type FrameworkLeaderOptions, type FrameworkLeadership } from './leader.js';
export {
  AgoraError,
  InvalidArgumentError,
  NotFoundError,
  FailedPreconditionError,
  NotLeaderError,
  UnavailableError,
  TimeoutError,
  NotSubscribedError,
  FrameworkRemovedError,
  DriverStoppedError,
  AuthenticationRefusedError,
  MasterUnreachableError,
  RecoveryTimeoutError,
  isAgoraError,
  wasRefused,
} from './errors.js';

// Building blocks from core that frameworks need.
export { Resources, type Resource } from '../core/resources.js';
export { resourcesFromWire, attributesFromWire, type Attributes } from '../core/wire.js';
export { resourcesToWire, taskSpecToWire, type TaskSpec, type TaskStatus, type Agent, type AgentRemoval, type AgentDrainChange } from './types.js';
export { isTerminal, isActive, TASK_STATES, type TaskState } from '../core/task-state.js';
export { SystemClock, FakeClock, systemClock, type Clock } from '../core/clock.js';
export { SeededRandom, type Random } from '../core/random.js';
export { createLogger, silentLogger, type Logger } from '../core/logger.js';
export { newUuid } from '../core/ids.js';
export { openStore, type Store } from '../core/store/index.js';

// Wire types: what the master sends and takes, for advanced use (TaskStatus and TaskSpec above are
// what handlers get and launch takes).
export type {
  Offer__Output as Offer,
  Offer__Output as WireOffer,
  Resource__Output as WireResource,
  TaskInfo,
  TaskInfo as WireTaskInfo,
  TaskStatus__Output as WireTaskStatus,
  Operation,
  KillPolicy,
  MasterInfo__Output as MasterInfo,
  FrameworkCapability,
  CommandInfo,
  ContainerInfo,
  HealthCheck,
} from '../proto/index.js';
