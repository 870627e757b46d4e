// What the driver remembers so it can refuse calls it knows are wrong (client-checks.ts): the agent
// of each offer it holds, and the updates it received (an acknowledgement of any other is refused;
// repeating one for an update acknowledged lately is not — the master takes a repeat, too).

/** Acknowledged updates remembered for repeats; the oldest are forgotten beyond this. */
export const ACKNOWLEDGED_REMEMBERED = 10_000;

export class ClientLedger {
  /** Offer id → its agent: received, not yet used, declined or rescinded. */
  readonly #offerAgents = new Map<string, string>();
  /** Update uuid → its task: received and not yet acknowledged. */
  readonly #received = new Map<string, string>();
  /** Update uuid → its task: acknowledged lately (insertion order: oldest first). */
  readonly #acknowledged = new Map<string, string>();

  offered(offers: readonly { id: string; agentId: string }[]): void {
    for (const o of offers) this.#offerAgents.set(o.id, o.agentId);
  }

  /** Offers used, declined or rescinded: gone. */
  offersGone(offers: readonly (string | { id: string })[]): void {
    for (const o of offers) this.#offerAgents.delete(typeof o === 'string' ? o : o.id);
  }

  /** A new subscription: offers died with the old one. */
  resubscribed(): void {
    this.#offerAgents.clear();
  }

  agentOf(offerId: string): string | undefined {
    return this.#offerAgents.get(offerId);
  }

  received(update: { taskId: string; uuid: string }): void {
    if (update.uuid) this.#received.set(update.uuid, update.taskId);
  }

  isReceived(update: { taskId: string; uuid: string }): boolean {
    return update.uuid !== '' && (this.#received.get(update.uuid) ?? this.#acknowledged.get(update.uuid)) === update.taskId;
  }

  acknowledged(update: { uuid: string }): void {
    const taskId = this.#received.get(update.uuid);
    if (taskId === undefined) return;
    this.#received.delete(update.uuid);
    this.#acknowledged.set(update.uuid, taskId);
    if (this.#acknowledged.size > ACKNOWLEDGED_REMEMBERED) this.#acknowledged.delete(this.#acknowledged.keys().next().value as string);
  }
}
