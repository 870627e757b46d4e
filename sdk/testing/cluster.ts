// A real cluster in the test's process: the master (an in-memory store, loopback ports) and agents
// whose tasks run on the fake executor (no processes; the test ends them), secured as `agora up` is
// and with timings short enough that a test takes seconds. A framework connects to it exactly as
// it connects to a real cluster: FrameworkDriver.start(cluster.driverOptions('my-framework'), …).
//
//   test ──► startTestCluster({ agents: 2 })
//              ├─ Master (memory store, TLS, tokens)  ◄── FrameworkDriver (the framework under test)
//              └─ Agent × n (TLS) ── TestExecutor ── cluster.finish(taskId) / cluster.fail(taskId)
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from '../../agent/agent.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { openStore, type Store } from '../../core/store/index.js';
import type { TaskState } from '../../core/task-state.js';
import type { Attributes } from '../../core/wire.js';
import { Master } from '../../master/master.js';
import type { DriverCredentials, DriverOptions, FrameworkDescription } from '../options.js';
import { FAST_DRIVER, TEST_AGENT_FLAGS, TEST_MASTER_FLAGS } from './defaults.js';
import { eventually } from './eventually.js';
import { makeTestClusterSecurity, type TestClusterSecurity } from './security.js';
import { TestExecutor } from './test-executor.js';

export interface TestAgentSpec {
  /** As the agent's --resources; default `cpus:4;mem:4096;disk:4096;ports:[31000-31099]`. */
  readonly resources?: string;
  /** As the agent's --attributes (`rack:r1;zone:a`) or { rack: 'r1' }; default none. */
  readonly attributes?: string | Attributes;
  /** Any other agent flag, as the CLI takes it (e.g. { killGracePeriod: '100ms' }). */
  readonly flags?: Readonly<Record<string, string>>;
}

export interface TestClusterOptions {
  /** How many agents (default 1), or one spec per agent. */
  readonly agents?: number | readonly TestAgentSpec[];
  /** Master flags over the kit's short timings, e.g. { offerTimeout: '500ms' }. */
  readonly master?: Readonly<Record<string, unknown>>;
  /** The clock of the master and the agents (default the system's). A FakeClock must start at Date.now(): certificates are checked against it. */
  readonly clock?: Clock;
  /** How long to wait for an agent to register (default 10 s). */
  readonly agentRegisterTimeoutMs?: number;
}

/** An agent of the cluster, with the executor its tasks run on. */
export interface TestClusterAgent {
  readonly id: string;
  readonly agent: Agent;
  readonly executor: TestExecutor;
  readonly workDir: string;
}

const MAX_AGENTS = 100;

export class TestCluster {
  readonly #agents = new Map<string, TestClusterAgent>();
  #master: Master;
  #stopped = false;

  private constructor(
    master: Master,
    readonly store: Store,
    readonly security: TestClusterSecurity,
    private readonly options: TestClusterOptions,
    private readonly flags: Readonly<Record<string, unknown>>,
  ) {
    this.#master = master;
  }

  /** @internal use startTestCluster(). */
  static async create(options: TestClusterOptions): Promise<TestCluster> {
    const specs = agentSpecs(options.agents ?? 1);
    const flags = { ...TEST_MASTER_FLAGS, ...options.master };
    const security = await makeTestClusterSecurity(String(flags['hostname'] ?? '127.0.0.1'));
    const store = await openStore('memory:', { chroot: '/agora' });
    let master: Master;
    try {
      master = await Master.start(flags, { store, security: { tls: security.masterTls, tokens: security.tokens }, ...(options.clock ? { clock: options.clock } : {}) });
    } catch (err) {
      await store.close();
      throw err;
    }
    const cluster = new TestCluster(master, store, security, options, flags);
    try {
      for (const spec of specs) await cluster.addAgent(spec);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get master(): Master {
    return this.#master;
  }

  /** host:port of the master's gRPC endpoint (what a driver's `master` option takes). */
  get masterAddress(): string {
    return this.#master.grpcAddress;
  }

  /** host:port of the master's HTTPS endpoint (operator API). */
  get masterHttpAddress(): string {
    return this.#master.httpAddress;
  }

  /** What a framework connects with: the cluster CA and a token of principal `test-framework` (built-in policy `frameworks`). */
  get credentials(): DriverCredentials {
    return { ca: this.security.ca, token: this.security.frameworkToken };
  }

  /** The cluster CA and the admin token (every action), for operator calls. */
  get adminCredentials(): DriverCredentials {
    return { ca: this.security.ca, token: this.security.adminToken };
  }

  /**
   * Options for FrameworkDriver.start: this master, the framework's credentials, quick reconnects
   * and reconciliation, a silent logger; `extra` over them.
   */
  driverOptions(framework: string | FrameworkDescription, extra: Partial<DriverOptions> = {}): DriverOptions {
    const description = typeof framework === 'string' ? { name: framework } : framework;
    return { master: this.masterAddress, framework: description, credentials: this.credentials, logger: silentLogger(), ...FAST_DRIVER, ...extra };
  }

  /** A new token of `principal` holding `policies` (built-in: admin, agent, frameworks, viewer). */
  async token(principal: string, policies: readonly string[]): Promise<string> {
    const acl = this.#master.security.acl;
    if (!acl) throw new InvalidArgumentError('security', 'the cluster runs without security');
    const { token } = await acl.createToken({ principal, policies, description: 'test cluster', createdBy: 'test', now: Date.now() });
    return token;
  }

  /** The agents, in the order they joined. */
  get agents(): TestClusterAgent[] {
    return [...this.#agents.values()];
  }

  /** Start another agent and wait until the master has admitted it. */
  async addAgent(spec: TestAgentSpec = {}): Promise<TestClusterAgent> {
    if (this.#agents.size >= MAX_AGENTS) throw new InvalidArgumentError('agents', `a test cluster has at most ${MAX_AGENTS} agents`);
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agora-test-agent-'));
    const clock = this.options.clock;
    const executor = new TestExecutor(clock ?? systemClock);
    const attributes = typeof spec.attributes === 'object' ? Object.entries(spec.attributes).map(([k, v]) => `${k}:${v}`).join(';') : spec.attributes;
    const flags = {
      ...TEST_AGENT_FLAGS,
      master: this.masterAddress,
      workDir,
      executor: 'fake',
      ...(spec.resources === undefined ? {} : { resources: spec.resources }),
      ...(attributes === undefined ? {} : { attributes }),
      ...spec.flags,
    };
    // Every task runs on the fake executor, Docker ones too: nothing a test launches starts a process.
    let agent: Agent;
    try {
      agent = await Agent.start(flags, { tls: this.security.agentTls, createExecutor: () => executor, ...(clock ? { clock } : {}) });
    } catch (err) {
      await fs.rm(workDir, { recursive: true, force: true });
      throw err;
    }
    try {
      const id = await eventually(() => registeredId(agent, this.#master), {
        timeoutMs: this.options.agentRegisterTimeoutMs ?? 10_000,
        what: 'the agent to register',
      });
      const entry = { id, agent, executor, workDir };
      this.#agents.set(id, entry);
      return entry;
    } catch (err) {
      await agent.stop();
      await fs.rm(workDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Stop an agent (its tasks with it): to the master it has gone quiet, as a machine that died. */
  async stopAgent(agentId: string): Promise<void> {
    const entry = this.#agent(agentId);
    this.#agents.delete(agentId);
    await entry.agent.stop();
    await fs.rm(entry.workDir, { recursive: true, force: true });
  }

  /** Stop the master and start a new one on the same store and ports: agents and drivers reconnect. */
  async restartMaster(): Promise<void> {
    const [, grpcPort] = /:(\d+)$/.exec(this.masterAddress) ?? [];
    const [, httpPort] = /:(\d+)$/.exec(this.masterHttpAddress) ?? [];
    await this.#master.stop();
    const flags = { ...this.flags, grpcPort: Number(grpcPort), httpPort: Number(httpPort) };
    const security = { tls: this.security.masterTls, tokens: this.security.tokens };
    this.#master = await Master.start(flags, { store: this.store, security, ...(this.options.clock ? { clock: this.options.clock } : {}) });
  }

  /** End a running task successfully (exit 0): the agent reports TASK_FINISHED. */
  finish(taskId: string): void {
    this.#running(taskId).executor.end(taskId, 0);
  }

  /** End a running task with a non-zero exit code (default 1): the agent reports TASK_FAILED. */
  fail(taskId: string, exitCode = 1): void {
    if (!Number.isInteger(exitCode) || exitCode < 1 || exitCode > 255) throw new InvalidArgumentError('exitCode', `a failure's exit code is 1 to 255, not ${exitCode}`);
    this.#running(taskId).executor.end(taskId, exitCode);
  }

  /** Ids of the tasks running on the agents now. */
  runningTasks(): string[] {
    return this.agents.flatMap((a) => a.executor.running());
  }

  /** The state the master holds for a task (undefined: it knows no such live or recent task). */
  taskState(taskId: string): TaskState | undefined {
    for (const task of this.#master.state.liveTasks()) if (task.taskId === taskId) return task.state;
    return undefined;
  }

  #running(taskId: string): TestClusterAgent {
    const entry = this.agents.find((a) => a.executor.has(taskId));
    if (!entry) throw new NotFoundError('running task', taskId);
    return entry;
  }

  #agent(agentId: string): TestClusterAgent {
    const entry = this.#agents.get(agentId);
    if (!entry) throw new NotFoundError('agent', agentId);
    return entry;
  }

  /** Stop the agents, the master and the store; remove the agents' work directories. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.allSettled(this.agents.map((a) => this.stopAgent(a.id)));
    await this.#master.stop();
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * The agent's id once the master has admitted it and the agent has checkpointed it (throws until
 * then, for eventually): a write still under way would land after a quick stop removed the work dir.
 */
async function registeredId(agent: Agent, master: Master): Promise<string> {
  const id = agent.agentId;
  if (id === undefined || !master.state.knowsAgent(id)) throw new Error(`agent ${id ?? '(no id yet)'} is not registered with the master`);
  if ((await agent.checkpoint.readAgentId()) !== id) throw new Error(`agent ${id} has not checkpointed its id yet`);
  return id;
}

function agentSpecs(agents: number | readonly TestAgentSpec[]): readonly TestAgentSpec[] {
  if (typeof agents === 'number') {
    if (!Number.isInteger(agents) || agents < 0 || agents > MAX_AGENTS) throw new InvalidArgumentError('agents', `0 to ${MAX_AGENTS} agents, not ${agents}`);
    return Array.from({ length: agents }, () => ({}));
  }
  if (!Array.isArray(agents)) throw new InvalidArgumentError('agents', 'a number of agents or a list of agent specs');
  if (agents.length > MAX_AGENTS) throw new InvalidArgumentError('agents', `a test cluster has at most ${MAX_AGENTS} agents`);
  return agents;
}

/**
 * A master and agents in this process, secured (TLS and tokens, as `agora up`), with short
 * timings; tasks run on the fake executor until the test ends them. Stop it with `stop()` (or
 * `await using`).
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  return TestCluster.create(options);
}
