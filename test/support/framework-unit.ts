// For unit tests of a framework's parts (launchers, gang decisions): an offer in its wire form (the
// testing kit's builder, with the defaults these tests were written for), and framework
// state on a private in-memory store, closed after each test (`afterEach(closeStates)`).
import type { Offer__Output } from '../../proto/index.js';
import { FrameworkState } from '../../sdk/state.js';
import { offer } from '../../sdk/testing/index.js';

/** An offer of `resources` (default cpus:1;mem:512) from `agentId` (default agent-ID) on `hostname` (default host-AGENT), naming no allocation role: the testing kit's offer(). */
export function wireOffer(id: string, options: { agentId?: string; hostname?: string; resources?: string } = {}): Offer__Output {
  const agentId = options.agentId ?? `agent-${id}`;
  return offer({ id, frameworkId: 'fw', agentId, hostname: options.hostname ?? `host-${agentId}`, resources: options.resources ?? 'cpus:1;mem:512', role: '', agentHttpAddress: '' });
}

const opened: FrameworkState[] = [];

/** Framework state on a fresh in-memory store. */
export async function memoryState(framework: string): Promise<FrameworkState> {
  const state = await FrameworkState.open('memory:', 'default', framework);
  opened.push(state);
  return state;
}

export async function closeStates(): Promise<void> {
  await Promise.allSettled(opened.splice(0).map((s) => s.store.close()));
}
