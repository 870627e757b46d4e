// One copy of a command on every agent whose attributes match, as a Kubernetes DaemonSet: a copy
// that dies is launched again, an agent that joins gets one, and a restart of this process (or of
// the master) makes no duplicates. sdk/README.md walks through it ("Write a framework: one copy on
// every agent").
//
//   node --import tsx examples/daemon.ts --selector role:web --resources 'cpus:0.1;mem:32' \
//     --state .agora/daemon 'while true; do date; sleep 5; done'
//   node --import tsx examples/daemon.ts --state .agora/daemon --teardown
//
// Ctrl-C (SIGINT) or SIGTERM stops this process and leaves the copies running: the next start with
// the same --state takes them over. --teardown removes the framework and kills every copy.
// Credentials as examples/keep-running.ts: $AGORA_CA and $AGORA_TOKEN (or $AGORA_TOKEN_FILE), by
// default what `agora up` made in .agora/; AGORA_INSECURE=1 for a master started with --insecure;
// AGORA_LOG_LEVEL (warn) for the driver's own log lines.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  FrameworkDriver,
  FrameworkState,
  Resources,
  agentFactsOf,
  createLogger,
  evaluate,
  isTerminal,
  matchOffers,
  newUuid,
  parseConstraints,
  resourcesToWire,
  wasRefused,
  type Agent,
  type Constraint,
  type DriverCredentials,
  type Offer,
  type SchedulerDriver,
  type TaskSpec,
  type TaskStatus,
} from '../sdk/index.js';

// --- 1. Options: parsed and checked once; a bad one names itself. -------------------------------
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    master: { type: 'string', default: '127.0.0.1:5051' },
    name: { type: 'string', default: 'daemon' },
    selector: { type: 'string', default: '' }, // attribute:value pairs, ';' between them
    resources: { type: 'string', default: 'cpus:0.1;mem:32' },
    state: { type: 'string', default: '.agora/daemon' }, // a store URL or a directory
    'failover-seconds': { type: 'string', default: '604800' },
    teardown: { type: 'boolean', default: false },
  },
});

function option<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    console.error(`--${flag}: ${(err as Error).message}`);
    process.exit(2);
  }
}
function seconds(flag: 'failover-seconds'): number {
  return option(flag, () => {
    const n = Number(flags[flag]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`a whole number of seconds ≥ 1, not "${flags[flag]}"`);
    return n;
  });
}

const command = positionals.join(' ') || 'sleep 3600';
const perCopy = option('resources', () => Resources.parse(flags.resources));
const failoverSeconds = seconds('failover-seconds');
// --selector role:web;zone:a is the constraints role IS web and zone IS a.
const selector: readonly Constraint[] = option('selector', () =>
  parseConstraints(
    flags.selector
      .split(';')
      .filter((pair) => pair !== '')
      .map((pair) => {
        const [field = '', value = '', ...extra] = pair.split(':');
        if (field === '' || value === '' || extra.length > 0) throw new Error(`"${pair}" is not attribute:value`);
        return [field, 'IS', value];
      }),
  ),
);

const insecure = process.env['AGORA_INSECURE'] === '1';
const credentials: DriverCredentials | undefined = insecure
  ? undefined
  : {
      ca: readFileSync(process.env['AGORA_CA'] ?? '.agora/tls/ca.pem'),
      token: process.env['AGORA_TOKEN'] ?? readFileSync(process.env['AGORA_TOKEN_FILE'] ?? '.agora/admin-token', 'utf8').trim(),
    };

// --- 2. What survives a restart: the framework id and where each copy runs. ---------------------
const state = await FrameworkState.open(flags.state, 'default', flags.name);
const savedId = (await state.get<string>('framework-id'))?.value;
/** agent id → the task id of its copy: written before a launch, so no copy is ever unknown. */
const copies = new Map(Object.entries((await state.get<Record<string, string>>('copies'))?.value ?? {}));
const saveCopies = (): Promise<number> => state.set('copies', Object.fromEntries(copies));

// --- 3. Offers: a copy for each matching agent that has none, never two on one agent. -----------
const selects = (offer: Offer): boolean => evaluate(selector, agentFactsOf(offer), []).ok;

async function placeCopies(driver: SchedulerDriver, offers: Offer[]): Promise<void> {
  const wanted = offers.filter((offer) => selects(offer) && !copies.has(offer.agentId));
  const others = offers.filter((offer) => !wanted.includes(offer));
  // Not ours, or has its copy: not again for 10 minutes, unless we revive (which clears filters).
  if (others.length > 0) await driver.decline(others, { refuseSeconds: 600 });
  // One pending copy per agent on offer; agent_id UNIQUE keeps them on different agents.
  const pending = [...new Set(wanted.map((offer) => offer.agentId))].map(() => ({
    id: `${flags.name}.${newUuid()}`,
    resources: perCopy,
    group: flags.name,
    constraints: [['agent_id', 'UNIQUE']],
  }));
  const plan = matchOffers(wanted, pending);
  for (const { offerIds, agentId, tasks } of plan.launches) {
    for (const { task, resources } of tasks) await launchCopy(driver, offerIds, agentId, task.id, resources);
  }
  for (const { task, reasons } of plan.unplaced) console.log(`${task.id} not placed: ${reasons.map((r) => r.reason).join('; ')}`);
  if (plan.declined.length > 0) await driver.decline(plan.declined, { refuseSeconds: 60 }); // too small for a copy
  if (plan.unplaced.length > 0) return;
  await driver.suppress(); // every matching agent on offer has its copy
  console.log(`suppressed: ${copies.size} copies`);
}

async function launchCopy(driver: SchedulerDriver, offerIds: readonly string[], agentId: string, taskId: string, resources: Resources): Promise<void> {
  copies.set(agentId, taskId);
  await saveCopies(); // before launching: after a crash we ask about a copy, never forget one
  const task: TaskSpec = { taskId, name: taskId, agentId, resources: resourcesToWire(resources), command: { shell: true, value: command } };
  try {
    await driver.launch(offerIds, [task]);
    console.log(`launched ${taskId} on ${agentId}`);
  } catch (err) {
    if (!wasRefused(err)) return driver.trackTask(taskId, agentId); // it may have launched: reconciliation will say
    copies.delete(agentId);
    await saveCopies();
  }
}

// --- 4. Updates: a copy that ends is replaced; a copy the state does not know is adopted or killed.
async function onUpdate(driver: SchedulerDriver, status: TaskStatus): Promise<void> {
  const { taskId, agentId, state: taskState } = status;
  console.log(`${taskId} ${taskState}${status.message ? `: ${status.message}` : ''}`);
  const known = copies.get(agentId);
  if (known === taskId) {
    if (!isTerminal(taskState)) return;
    copies.delete(agentId);
    await saveCopies();
    await revive(driver); // its agent's offers were declined for 10 minutes: ask again now
  } else if (!isTerminal(taskState)) {
    if (known !== undefined) return driver.kill(taskId, agentId); // a second copy on one agent
    copies.set(agentId, taskId); // a copy the state lost: adopt it
    await saveCopies();
  }
}

async function revive(driver: SchedulerDriver): Promise<void> {
  // While disconnected this fails; the next subscription revives anyway (see subscribed).
  await driver.revive().catch((err: Error) => console.log(`revive: ${err.message}`));
}

// --- 5. Recovery: what the state remembers, and what the master knows that the state forgot. -----
async function recoverCopies(driver: SchedulerDriver): Promise<void> {
  const known = [...copies].map(([agentId, taskId]) => ({ taskId, agentId }));
  // Offers wait until the master has answered for every task (holdOffers): none is placed on a stale picture.
  const { running, ended, forgotten } = await driver.recover(known);
  const gone = new Set(ended.map((status) => status.taskId));
  for (const [agentId, taskId] of copies) if (gone.has(taskId)) copies.delete(agentId); // replaced on the next offers
  for (const { taskId, agentId, state: taskState } of forgotten) {
    if (isTerminal(taskState)) continue;
    if (copies.has(agentId)) await driver.kill(taskId, agentId); // a second copy on one agent
    else copies.set(agentId, taskId); // a copy the state lost (a crash between launch and save): adopt it
  }
  await saveCopies();
  console.log(`recovered: ${running.length} running, ${ended.length} ended, ${forgotten.length} forgotten`);
}

// --- 6. Agents that join: the master says so (agentEvents), and a suppressed framework revives. ---
async function onAgentAdded(driver: SchedulerDriver, agent: Agent): Promise<void> {
  if (agent.draining || copies.has(agent.agentId) || !evaluate(selector, agent, []).ok) return;
  console.log(`agent ${agent.agentId} (${agent.hostname}) wants a copy: reviving`);
  await revive(driver);
}

// --- 7. Run: subscribe (as the same framework after a restart), then live until stopped. --------
// The driver's own log lines: AGORA_LOG_LEVEL=debug shows each connection attempt and event.
const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
const logLevel = LOG_LEVELS.find((level) => level === (process.env['AGORA_LOG_LEVEL'] ?? 'warn'));
if (logLevel === undefined) {
  console.error(`AGORA_LOG_LEVEL: one of ${LOG_LEVELS.join(', ')}, not "${process.env['AGORA_LOG_LEVEL']}"`);
  process.exit(2);
}
const connection = { master: flags.master, logger: createLogger({ name: flags.name, level: logLevel }), ...(credentials ? { credentials } : { insecure }) };
const framework = { name: flags.name, failoverTimeoutSeconds: failoverSeconds, agentEvents: true, ...(savedId ? { id: savedId } : {}) };

async function run(): Promise<void> {
  let recovered = false;
  const driver = await FrameworkDriver.start({ ...connection, framework }, {
    async subscribed(driver, { frameworkId }) {
      console.log(`subscribed as ${frameworkId}`);
      if (frameworkId !== savedId) await state.set('framework-id', frameworkId);
      if (!recovered) await recoverCopies(driver);
      recovered = true;
      await revive(driver); // clear the last subscription's decline filters: look at every agent again
    },
    offers: placeCopies,
    update: onUpdate,
    agentAdded: onAgentAdded,
  });
  // Ctrl-C or SIGTERM: stop, leaving the copies running for the next start to take over.
  const stop = (): void => void driver.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await driver.closed;
}

// --teardown: subscribe as the framework the state names, remove it (killing every copy), forget it.
async function tearDown(): Promise<void> {
  if (savedId === undefined) return console.log('no framework to tear down');
  const driver = await FrameworkDriver.start({ ...connection, framework }, {});
  await driver.teardown().finally(() => driver.stop());
  for (const key of ['copies', 'framework-id']) await state.delete(key);
  console.log(`tore down ${savedId}`);
}

try {
  await (flags.teardown ? tearDown() : run());
} catch (err) {
  console.error(`${(err as Error).name}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await state.close();
}
