// `agent/ID` (or a bare ID) as the agent verbs and `describe agent/ID` take it. The id is sent as
// given: the master decides whether it knows it (NOT_FOUND) and whether the caller may act on it.
import { InvalidArgumentError } from '../../core/errors.js';

const AGENT_KINDS = new Set(['agent', 'agents', 'node', 'nodes']);

/** The agent id of `agent/ID`, `node/ID` or `ID`. */
export function parseAgentRef(text: string): string {
  const slash = text.indexOf('/');
  const [kind, id] = slash === -1 ? ['agent', text] : [text.slice(0, slash), text.slice(slash + 1)];
  if (!AGENT_KINDS.has(kind.toLowerCase())) throw new InvalidArgumentError('agent', `expected agent/ID, got '${text}'`);
  if (id === '' || id.includes('/')) throw new InvalidArgumentError('agent', `'${text}' names no agent (e.g. agent/S1; agora get agents lists them)`);
  return id;
}
