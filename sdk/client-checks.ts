// Checks a call must pass before it is sent, where the driver knows better than to ask the master:
// a task is launched on its offers' agent (the master would move it there without a word), a
// launched task has resources, and an acknowledgement names an update the driver received. Pure:
// the driver supplies what it knows. Each refusal is an InvalidArgumentError naming the field.
import { InvalidArgumentError } from '../core/errors.js';
import type { Offer__Output, Operation, TaskInfo } from '../proto/index.js';

/** Where each task of the operations sits, as the field an error names. */
function launchedTasks(operations: readonly Operation[]): Array<{ task: TaskInfo; field: string }> {
  const out: Array<{ task: TaskInfo; field: string }> = [];
  operations.forEach((op, i) => {
    (op.launch?.taskInfos ?? []).forEach((task, j) => out.push({ task, field: `operations[${i}].launch.taskInfos[${j}]` }));
    (op.launchGroup?.taskGroup?.tasks ?? []).forEach((task, j) => out.push({ task, field: `operations[${i}].launchGroup.taskGroup.tasks[${j}]` }));
  });
  return out;
}

/**
 * The agent of the offers, as far as known (an offer object says; an id, what `agentOf` remembers);
 * offers known to lie on different agents are refused (`offerIds[i]`), and so is a task naming
 * another agent than theirs (`…taskInfos[j].agentId`) or launched with no resources.
 */
export function checkAccept(offers: readonly (string | Offer__Output)[], operations: readonly Operation[], agentOf: (offerId: string) => string | undefined): void {
  let agent: { id: string; offer: string } | undefined;
  offers.forEach((o, i) => {
    const id = typeof o === 'string' ? o : o.id;
    const agentId = typeof o === 'string' ? agentOf(o) : o.agentId;
    if (agentId === undefined || agentId === '') return;
    if (agent && agent.id !== agentId) throw new InvalidArgumentError(`offerIds[${i}]`, `offer ${id} is on agent ${agentId}, but offer ${agent.offer} is on ${agent.id}: one accept uses offers of one agent`);
    agent ??= { id: agentId, offer: id };
  });
  for (const { task, field } of launchedTasks(operations)) {
    if (!task.resources || task.resources.length === 0) throw new InvalidArgumentError(`${field}.resources`, `task '${task.taskId ?? ''}' has no resources`);
    if (agent && task.agentId && task.agentId !== agent.id) {
      throw new InvalidArgumentError(`${field}.agentId`, `task '${task.taskId ?? ''}' names agent ${task.agentId}, but its offers are on agent ${agent.id}`);
    }
  }
}

/** The acknowledgement of an update the driver never received: refused, naming `field`. */
export function unknownUpdate(field: string, ack: { taskId: string; uuid: string }): InvalidArgumentError {
  return new InvalidArgumentError(field, `no update with uuid '${ack.uuid}' for task '${ack.taskId}' reached this driver`);
}

/** Rewrite a field of `operations[0].launch.taskInfos[j]…` as the launch call's `tasks[j]…`. */
export function asLaunchField(err: unknown): unknown {
  if (!(err instanceof InvalidArgumentError) || !err.field) return err;
  const m = /^operations\[0\]\.(?:launch\.taskInfos|launchGroup\.taskGroup\.tasks)(\[\d+\].*)$/.exec(err.field);
  return m ? new InvalidArgumentError(`tasks${m[1]}`, err.message.slice(err.field.length + 2)) : err;
}
