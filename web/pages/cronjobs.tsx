import type { Session } from '../api.js';
export function CronJobs() {
  return <p>Cron jobs</p>;
}
export function CronJobPage({ name }: { name: string; who: Session }) {
  return <p>Cron job {name}</p>;
}
