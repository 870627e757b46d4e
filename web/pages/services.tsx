import type { Session } from '../api.js';
export function Services() {
  return <p>Services</p>;
}
export function ServicePage({ name }: { name: string; who: Session }) {
  return <p>Service {name}</p>;
}
