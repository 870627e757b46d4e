// Offers → launches. The instances the planner wants started are matched against the offers with
// sdk matchOffers (spread over agents, constraints counted against the service's running tasks);
// each placed instance is written to the book *before* it is launched, so a restart never loses a
// task it started; offers nothing was placed on are declined (short filter while instances wait,
// long when none do); and why the rest did not fit is kept for "why is this pending?".
import { shortId } from '../../core/ids.js';
import { agentFactsOf, type AgentFacts } from '../../sdk/constraints.js';
import type { FrameworkDriver } from '../../sdk/driver.js';
import { matchOffers, type Launch, type MatchResult, type Unplaced } from '../../sdk/offers.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Offer__Output, TaskInfo } from '../../proto/index.js';
import { LaunchProtocol, noOfferFits } from '../common/launch-protocol.js';
import type { ValueResolver } from '../common/value-refs.js';
import type { ServiceBook } from './book.js';
import { relaunchesOf, type TaskRecord } from './model.js';
import { isLive } from './planner.js';
import type { ServiceSupervisor } from './supervisor.js';
import { taskInfo, type PendingLaunch } from './tasks.js';

export interface ServiceLauncherDeps {
  readonly book: ServiceBook;
  readonly supervisor: ServiceSupervisor;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly role: string;
  readonly values?: ValueResolver;
}

export class ServiceLauncher {
  readonly #protocol: LaunchProtocol;

  constructor(private readonly deps: ServiceLauncherDeps) {
    this.#protocol = new LaunchProtocol({ logger: deps.logger, declinedIdle: () => deps.supervisor.declinedIdle() });
  }

  async offers(driver: FrameworkDriver, offers: readonly Offer__Output[]): Promise<void> {
    const pending = this.deps.supervisor.pending;
    if (pending.length === 0) {
      await this.#protocol.declineAll(driver, offers.map((o) => o.id), false);
      return;
    }
    let result: MatchResult<PendingLaunch>;
    try {
      result = matchOffers(offers, pending, { strategy: 'spread', placed: (group) => this.#placed(group), role: this.deps.role });
    } catch (err) {
      this.deps.logger.error({ err }, 'offer matching refused the pending instances');
      await this.#protocol.declineAll(driver, offers.map((o) => o.id), true);
      return;
    }
    this.#noteUnplaced(result.unplaced);
    const waiting = result.unplaced.length > 0;
    for (const launch of result.launches) await this.#launch(driver, launch, waiting);
    await this.#protocol.declineAll(driver, result.declined, waiting);
    await this.deps.supervisor.replan();
  }

  /** Where the service's live tasks run, for its constraints. */
  #placed(group: string): AgentFacts[] {
    const record = this.deps.book.records.get(group);
    if (record === undefined) return [];
    return this.deps.book.tasksOf(record).filter(isLive).map((t) => ({ agentId: t.agentId, hostname: t.hostname, attributes: t.attributes, ...zoneOf(t) }));
  }

  async #launch(driver: FrameworkDriver, launch: Launch<PendingLaunch>, waiting: boolean): Promise<void> {
    const { book, clock } = this.deps;
    const now = clock.now();
    const facts = agentFactsOf(launch.offers[0]!);
    const infos: TaskInfo[] = [];
    const byService = new Map<string, TaskRecord[]>();
    const carried = new Set<string>();
    for (const placement of launch.tasks) {
      const { service, version, canary, spec, relaunch } = placement.task;
      const taskId = `${service}.${version}.${shortId(8)}`;
      const ports = placement.ports.map((number, i) => ({ number, name: spec.ports[i]?.name ?? '' }));
      const record: TaskRecord = { taskId, version, agentId: launch.agentId, hostname: launch.hostname, ...ipOf(launch), attributes: facts.attributes, ...zoneOf(facts), ports, stagedAtMs: now, canary, ...(relaunch ? { failures: relaunch.failures } : {}) };
      byService.set(service, [...(byService.get(service) ?? []), record]);
      if (relaunch) carried.add(relaunch.taskId);
      infos.push(taskInfo(taskId, launch.agentId, version, placement, this.deps.values));
    }
    // Each task is in the book before it is launched, so a new leader reconciles it rather than
    // launching it again. A launch that cannot be recorded (a stale instance, a store error) is not
    // made, and its offers go back rather than stay with this framework.
    try {
      for (const [service, tasks] of byService) {
        const current = book.records.get(service);
        if (current === undefined) continue;
        for (const t of tasks) book.runtime.set(t.taskId, { state: 'TASK_STAGING', confirmed: true, startedAtMs: 0, message: 'launching' });
        // A relaunched instance's backoff entry goes with its new task (which carries its failures on).
        const relaunches = relaunchesOf(current).filter((r) => !carried.has(r.taskId));
        await book.put({ ...current, relaunches, tasks: { ...current.tasks, ...Object.fromEntries(tasks.map((t) => [t.taskId, t])) } });
      }
    } catch (err) {
      // Tasks recorded for another service of this launch are asked about (the master will say it
      // never saw them); the others are dropped.
      for (const info of infos) {
        if (book.owner.has(info.taskId!)) driver.trackTask(info.taskId!, launch.agentId);
        else book.runtime.delete(info.taskId!);
      }
      this.deps.logger.warn({ err, agentId: launch.agentId }, 'could not record the launch; its offers go back');
      await this.#protocol.declineAll(driver, launch.offerIds, waiting);
      return;
    }
    const sent = await this.#protocol.send(driver, launch, infos, waiting);
    // Never launched: forget the tasks (no failure: the offer went away, not the task).
    if (sent.result === 'refused') for (const info of infos) await this.deps.supervisor.unknownTask(info.taskId!);
  }

  /** For each service, why its first unplaced instance fitted no offer: one line per distinct reason. */
  #noteUnplaced(unplaced: readonly Unplaced<PendingLaunch>[]): void {
    const notes = this.deps.supervisor.notes;
    for (const [service, note] of notes) if (note.unplaced !== '') notes.set(service, { ...note, unplaced: '' });
    const seen = new Set<string>();
    for (const u of unplaced) {
      const service = u.task.service;
      if (seen.has(service)) continue;
      seen.add(service);
      const note = this.deps.supervisor.notes.get(service);
      this.deps.supervisor.notes.set(service, { waiting: note?.waiting ?? '', unplaced: noOfferFits(u.reasons) });
    }
  }
}

function zoneOf(f: { readonly region?: string | undefined; readonly zone?: string | undefined }): { region?: string; zone?: string } {
  return { ...(f.region ? { region: f.region } : {}), ...(f.zone ? { zone: f.zone } : {}) };
}

/** The IP of the launch's agent, as its offers carry it ('' from an agent older than the field: left out). */
function ipOf(launch: Launch<PendingLaunch>): { ip?: string } {
  const ip = launch.offers[0]?.agentIp;
  return ip ? { ip } : {};
}
