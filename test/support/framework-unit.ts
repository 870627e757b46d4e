// For unit tests of a framework's parts (launchers, gang decisions): an offer in its wire form, and framework
// state on a private in-memory store, closed after each test (`afterEach(closeStates)`).
import { Resources } from '../../core/resources.js';
import { attributesToWire, resourcesToWire } from '../../core/wire.js';
import type { Offer__Output } from '../../proto/index.js';
import { FrameworkState } from '../../sdk/state.js';

/** An offer of `resources` (default cpus:1;mem:512) from `agentId` (default agent-ID) on `hostname` (default host-AGENT). */
export function wireOffer(id: string, options: { agentId?: string; hostname?: string; resources?: string } = {}): Offer__Output {
  const agentId = options.agentId ?? `agent-${id}`;
  return {
    id,
    frameworkId: 'fw',
    agentId,
    hostname: options.hostname ?? `host-${agentId}`,
    resources: resourcesToWire(Resources.parse(options.resources ?? 'cpus:1;mem:512')),
    attributes: attributesToWire({}),
    agentHttpAddress: '',
    allocationRole: '',
    unavailability: null,
    domain: null,
  } as unknown as Offer__Output;
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
