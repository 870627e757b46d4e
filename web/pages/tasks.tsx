import type { Route } from '../router.js';
export function Tasks({ route }: { route: Route }) {
  return <p>Tasks {route.parts.join('/')}</p>;
}
export function TaskPage({ frameworkId, taskId }: { frameworkId: string; taskId: string }) {
  return (
    <p>
      Task {frameworkId}/{taskId}
    </p>
  );
}
