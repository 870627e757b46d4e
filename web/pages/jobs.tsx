import type { Session } from '../api.js';
export function Jobs() {
  return <p>Jobs</p>;
}
export function JobPage({ name }: { name: string; who: Session }) {
  return <p>Job {name}</p>;
}
