// The framework of sdk/README.md's "Testing your framework" (copied from there verbatim but for the
// import path): keep `count` copies of a command running, one per offer, relaunching a copy that
// ends — but not within `backoffMs` of a failure. Its unit test (test/unit/sdk-testing-kit.test.ts)
// and integration test (test/integration/sdk-testing-kit.test.ts) are the README's samples, so
// they cannot rot.
import { declineFilter, isTerminal, Resources, resourcesToWire, systemClock, type Clock, type FrameworkHandlers } from '../../sdk/index.js';

export function keepCopies(options: { count: number; command: string; resources?: string; backoffMs?: number; clock?: Clock }) {
  const clock = options.clock ?? systemClock;
  const resources = resourcesToWire(Resources.parse(options.resources ?? 'cpus:0.5;mem:64'));
  const live = new Set<string>();
  let launched = 0;
  let failedAt = -Infinity;
  const handlers: FrameworkHandlers & { live: ReadonlySet<string> } = {
    live,
    async offers(driver, offers) {
      for (const offer of offers) {
        const waiting = clock.now() < failedAt + (options.backoffMs ?? 0);
        if (live.size >= options.count || waiting) {
          await driver.decline([offer], declineFilter({ hasPendingWork: waiting }));
          continue;
        }
        const taskId = `copy-${++launched}`;
        live.add(taskId);
        const task = { taskId, name: 'copy', agentId: offer.agentId, resources, command: { shell: true, value: options.command } };
        await driver.launch([offer], [task]).catch(() => live.delete(taskId));
      }
    },
    update(_driver, status) {
      if (!isTerminal(status.state)) return;
      live.delete(status.taskId);
      if (status.state !== 'TASK_FINISHED') failedAt = clock.now();
    },
  };
  return handlers;
}
