// The status updates the master has relayed to frameworks and that await their acknowledgement,
// by framework and task: what a batched acknowledgement is checked against, so a framework can
// acknowledge only updates of its own tasks that it was sent, from the agent that sent them.
//
//   agent update ─► relayed to the framework ─► relayed(fw, task, agent, uuid)
//   AcknowledgeBatch item ─► check(fw, item) ─► ok: settle ─► the agent gets the acknowledgement
//
// In memory only, as the master's tasks are: after a failover the agents resend what is not
// acknowledged, and each resend is recorded again as it is relayed. An acknowledgement that beats
// the resend is refused, and the framework acknowledges the resend (Mesos ignores it alike).
// An agent sends a task's next update only once the previous one is acknowledged, so a task
// awaits one uuid, rarely more (a resend racing a reconnection); at most MAX_UUIDS_PER_TASK are kept.

export const MAX_UUIDS_PER_TASK = 4;

export interface AwaitedUpdate {
  readonly agentId: string;
  /** Oldest first. */
  readonly uuids: string[];
}

export type AckCheck = { ok: true } | { ok: false; code: 'AGORA_INVALID_ARGUMENT' | 'AGORA_NOT_FOUND'; field: 'agentId' | 'taskId' | 'uuid'; message: string };

export class AwaitedAcknowledgements {
  readonly #byFramework = new Map<string, Map<string, AwaitedUpdate>>();

  /** The master relayed `uuid`, an update of `taskId` sent by `agentId`, to the framework. */
  relayed(frameworkId: string, taskId: string, agentId: string, uuid: string): void {
    let tasks = this.#byFramework.get(frameworkId);
    if (!tasks) this.#byFramework.set(frameworkId, (tasks = new Map()));
    const awaited = tasks.get(taskId);
    // The task moved to another agent (its id reused): the old agent's updates are moot.
    if (!awaited || awaited.agentId !== agentId) {
      tasks.set(taskId, { agentId, uuids: [uuid] });
      return;
    }
    if (awaited.uuids.includes(uuid)) return;
    awaited.uuids.push(uuid);
    if (awaited.uuids.length > MAX_UUIDS_PER_TASK) awaited.uuids.shift();
  }

  /** May the framework acknowledge this update? Says which field is wrong when not. */
  check(frameworkId: string, ack: { agentId: string; taskId: string; uuid: string }): AckCheck {
    const missing = missingAckField(ack);
    if (missing) return refuse('AGORA_INVALID_ARGUMENT', missing, 'is required');
    const awaited = this.#byFramework.get(frameworkId)?.get(ack.taskId);
    if (!awaited) return refuse('AGORA_NOT_FOUND', 'taskId', `no update of task '${ack.taskId}' of this framework awaits acknowledgement`);
    if (awaited.agentId !== ack.agentId) return refuse('AGORA_INVALID_ARGUMENT', 'agentId', `the update of task '${ack.taskId}' came from agent '${awaited.agentId}', not '${ack.agentId}'`);
    if (!awaited.uuids.includes(ack.uuid)) return refuse('AGORA_INVALID_ARGUMENT', 'uuid', `'${ack.uuid}' is not an update of task '${ack.taskId}' awaiting acknowledgement (already acknowledged, or never sent)`);
    return { ok: true };
  }

  /** The update was acknowledged: it awaits nothing more. */
  settle(frameworkId: string, taskId: string, uuid: string): void {
    const tasks = this.#byFramework.get(frameworkId);
    const awaited = tasks?.get(taskId);
    if (!tasks || !awaited) return;
    const i = awaited.uuids.indexOf(uuid);
    if (i < 0) return;
    awaited.uuids.splice(i, 1);
    if (awaited.uuids.length > 0) return;
    tasks.delete(taskId);
    if (tasks.size === 0) this.#byFramework.delete(frameworkId);
  }

  /** The framework is gone: nobody will acknowledge its updates. */
  dropFramework(frameworkId: string): void {
    this.#byFramework.delete(frameworkId);
  }

  /** Updates awaiting acknowledgement, in total. */
  get size(): number {
    let n = 0;
    for (const tasks of this.#byFramework.values()) for (const awaited of tasks.values()) n += awaited.uuids.length;
    return n;
  }
}

/** The first of an acknowledgement's three required fields that is empty, if any (both Acknowledge calls). */
export function missingAckField(ack: { agentId: string; taskId: string; uuid: string }): 'agentId' | 'taskId' | 'uuid' | undefined {
  return !ack.agentId ? 'agentId' : !ack.taskId ? 'taskId' : !ack.uuid ? 'uuid' : undefined;
}

function refuse(code: 'AGORA_INVALID_ARGUMENT' | 'AGORA_NOT_FOUND', field: 'agentId' | 'taskId' | 'uuid', message: string): AckCheck {
  return { ok: false, code, field, message };
}
