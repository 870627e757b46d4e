// Run N copies of a command somewhere in the cluster and keep them running.
//
//   node --import tsx examples/keep-running.ts [master] [copies] [command...]
//   node --import tsx examples/keep-running.ts 127.0.0.1:5051 3 'while true; do date; sleep 5; done'
//
// It proves who it is with a token, over TLS trusting the cluster's CA: $AGORA_TOKEN (or the file
// $AGORA_TOKEN_FILE) and $AGORA_CA, by default what `agora up` made in .agora/ (run it from where
// `npm start` runs). AGORA_INSECURE=1 for a master started with --insecure.
import { readFileSync } from 'node:fs';
import { FrameworkDriver, Resources, createLogger, isTerminal, resourcesFromWire, resourcesToWire, type DriverCredentials, type TaskSpec } from '../sdk/index.js';

const [master = '127.0.0.1:5051', copies = '3', ...words] = process.argv.slice(2);
const wanted = Number(copies);
const command = words.join(' ') || 'sleep 3600';
const perTask = Resources.parse('cpus:0.1;mem:32');
const live = new Set<string>(); // tasks launched and not yet ended
let launchedCount = 0;

const insecure = process.env['AGORA_INSECURE'] === '1';
const credentials: DriverCredentials | undefined = insecure
  ? undefined
  : {
      ca: readFileSync(process.env['AGORA_CA'] ?? '.agora/tls/ca.pem'),
      token: process.env['AGORA_TOKEN'] ?? readFileSync(process.env['AGORA_TOKEN_FILE'] ?? '.agora/admin-token', 'utf8').trim(),
    };

const driver = await FrameworkDriver.start(
  { master, framework: { name: 'keep-running', failoverTimeoutSeconds: 60 }, logger: createLogger({ name: 'keep-running' }), ...(credentials ? { credentials } : { insecure }) },
  {
    // Each offer is one agent's free resources: launch as many copies as fit and are missing.
    // Every handler gets the driver first, and none runs before start() has resolved.
    async offers(driver, offers) {
      for (const offer of offers) {
        let free = resourcesFromWire(offer.resources).unreserved();
        const tasks: TaskSpec[] = [];
        while (live.size < wanted && free.contains(perTask)) {
          const taskId = `copy-${++launchedCount}`;
          live.add(taskId);
          free = free.subtract(perTask);
          tasks.push({ taskId, name: taskId, agentId: offer.agentId, resources: resourcesToWire(perTask), command: { shell: true, value: command } });
        }
        if (tasks.length > 0) await driver.launch([offer], tasks);
        else await driver.decline([offer], { refuseSeconds: 120 }); // nothing to do: don't hog offers
      }
      if (live.size >= wanted) await driver.suppress();
    },
    // A copy ended (failed, killed, lost with its agent): forget it and ask for offers again.
    async update(driver, status) {
      console.log(`${status.taskId} ${status.state}${status.message ? `: ${status.message}` : ''}`);
      if (isTerminal(status.state) && live.delete(status.taskId)) await driver.revive();
    },
    // After a reconnect, reconciliation reports every live task again; nothing else to do.
    subscribed: (_driver, { frameworkId, resubscribed }) => console.log(`${resubscribed ? 're' : ''}subscribed as ${frameworkId}`),
  },
);

// Ctrl-C: remove the framework (killing its copies), then stop; the process then exits by itself.
process.once('SIGINT', () => void driver.teardown().finally(() => driver.stop()));
// The driver keeps the process alive, reconnecting through master restarts, until it is stopped
// (closed resolves) or fails for good: refused, removed, or no master within the retries.
try {
  await driver.closed;
} catch (err) {
  console.error(`${(err as Error).name}: ${(err as Error).message}`);
  process.exitCode = 1;
}
