// What a service instance asks of an offer (a PendingTask for sdk matchOffers) and the TaskInfo it
// is launched with (pure). Ports: the spec's ports in order, named for the agent (which sets
// $PORT0…, $PORT_<NAME> from TaskInfo.discovery.ports) and for service discovery.
import type { Resources } from '../../core/resources.js';
import type { PendingTask, TaskPlacement } from '../../sdk/offers.js';
import type { TaskInfo } from '../../proto/index.js';
import { portRequests, templateCapabilities, templateResources, templateTaskInfo } from '../common/task-info.js';
import type { ServiceSpecDoc } from './spec.js';
import type { ValueResolver } from '../common/value-refs.js';

/** One instance waiting for an offer. */
export interface PendingLaunch extends PendingTask {
  readonly service: string;
  readonly version: string;
  readonly canary: boolean;
  readonly spec: ServiceSpecDoc;
  /** The failed instance this launch carries on (its consecutive failures), if any. */
  readonly relaunch?: { readonly taskId: string; readonly failures: number };
}

export function pendingLaunch(spec: ServiceSpecDoc, version: string, canary: boolean, defaultRole: string, relaunch?: { readonly taskId: string; readonly failures: number }): PendingLaunch {
  const resources: Resources = templateResources(spec);
  const ports = portRequests(spec);
  return {
    service: spec.name,
    version,
    canary,
    spec,
    ...(relaunch === undefined ? {} : { relaunch: { taskId: relaunch.taskId, failures: relaunch.failures } }),
    resources,
    ports,
    role: spec.role || defaultRole,
    group: spec.name,
    constraints: spec.constraints,
    ...templateCapabilities(spec),
  };
}

export function taskInfo(taskId: string, agentId: string, version: string, placement: TaskPlacement<PendingLaunch>, values?: ValueResolver): TaskInfo {
  const spec = placement.task.spec;
  return templateTaskInfo(
    spec,
    {
      taskId,
      agentId,
      name: spec.name,
      env: { AGORA_SERVICE: spec.name, AGORA_SERVICE_VERSION: version },
      labels: { 'agora.service': spec.name, 'agora.version': version },
      discovery: true,
      ...(values ? { values } : {}),
    },
    placement,
  );
}
