// A framework's batched acknowledgements (Scheduler.AcknowledgeBatch): each item is checked as if
// it came alone — against the updates this master relayed to this framework (awaited-acks.ts), so
// a framework acknowledges only its own tasks' updates, with the uuid it was sent, naming the agent
// that sent it — then the good ones go to their agents, one message per agent.
//
//   items ─► check each ─┬─ refused: { index, field, code, message } in the answer
//                        └─ ok: settle ─► group by agent ─► one `acknowledgements` message each
//
// A bad item does not drop the good ones. Acknowledgements are independent of each other (each
// ends one update's resends on one agent) and each is safe to apply alone; refusing the whole call
// for one stale item — a uuid acknowledged twice, an update relayed by an earlier leader — would
// make the agents resend all the others, the load batching is meant to remove. What is wrong with
// the call itself (framework, subscription, list size) refuses it whole and changes nothing.
import { InvalidArgumentError } from '../core/errors.js';
import { MAX_ACKNOWLEDGEMENTS_PER_CALL } from '../core/limits.js';
import type { AcknowledgeBatchResult, AcknowledgementRefusal, StatusAcknowledgement } from '../proto/index.js';
import { subscribedFramework } from './frameworks.js';
import type { MasterState } from './state.js';

export interface AcknowledgeBatchInput {
  readonly frameworkId: string;
  readonly acknowledgements: readonly { readonly agentId: string; readonly taskId: string; readonly uuid: string }[];
}

export function acknowledgeBatch(state: MasterState, request: AcknowledgeBatchInput): AcknowledgeBatchResult {
  subscribedFramework(state, request.frameworkId);
  const items = request.acknowledgements;
  if (items.length === 0) throw new InvalidArgumentError('acknowledgements', 'at least one acknowledgement is required');
  if (items.length > MAX_ACKNOWLEDGEMENTS_PER_CALL) {
    throw new InvalidArgumentError('acknowledgements', `at most ${MAX_ACKNOWLEDGEMENTS_PER_CALL} per call, got ${items.length}`);
  }
  const refused: AcknowledgementRefusal[] = [];
  const byAgent = new Map<string, StatusAcknowledgement[]>();
  for (const [index, item] of items.entries()) {
    const verdict = state.awaited.check(request.frameworkId, item);
    if (!verdict.ok) {
      const field = `acknowledgements[${index}].${verdict.field}`;
      refused.push({ index, field, code: verdict.code, message: `${field}: ${verdict.message}` });
      continue;
    }
    state.awaited.settle(request.frameworkId, item.taskId, item.uuid);
    state.acknowledged(request.frameworkId, item.taskId, item.uuid);
    let forAgent = byAgent.get(item.agentId);
    if (!forAgent) byAgent.set(item.agentId, (forAgent = []));
    forAgent.push({ frameworkId: request.frameworkId, taskId: item.taskId, uuid: item.uuid });
  }
  // An agent not connected now resends the updates once it is back, and they are acknowledged then.
  for (const [agentId, acknowledgements] of byAgent) state.sendToAgent(agentId, { acknowledgements: { acknowledgements } });
  if (refused.length > 0) state.logger.debug({ frameworkId: request.frameworkId, refused: refused.length, of: items.length }, 'acknowledgements refused');
  return { refused };
}
