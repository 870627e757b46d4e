import type { Session } from '../api.js';
export function Agents() {
  return <p>Agents</p>;
}
export function AgentPage({ id }: { id: string; who: Session }) {
  return <p>Agent {id}</p>;
}
