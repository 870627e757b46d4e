// The frameworks host's Prometheus metrics (`agora frameworks`; inside `agora up`, added to the
// master's /metrics). Registries per host, nothing in prom-client's global one:
//
//   processMetrics()  core/process-metrics.ts: process and Node.js figures, agora_build_info
//                     (served by the host's own /metrics only: in `agora up` the master serves them)
//   own               agora_frameworks_leader, the Jobs API's requests (api/metrics.ts), and the
//                     HTTP server's edge metrics (its own server only)
//   workloads         services, cron jobs, jobs: gauges computed at scrape time from the running
//                     frameworks' figures (workload-figures.ts), and their counters
//
// Every host serves the first two; only the leading one, whose frameworks run, serves `workloads`
// (a standby has no frameworks, so nothing would be counted twice anyway, but it says so plainly,
// as a standby master does). Label values: a service, cron job or job by name; a phase in lower
// case without its prefix (`DEPLOYMENT_IN_PROGRESS` → `in_progress`, `JOB_FAILED` → `failed`).
import { Gauge, Registry } from 'prom-client';
import { registerScraped, type Put } from '../core/scraped-metrics.js';
import { registerHttpEdgeMetrics } from '../core/edge-metrics.js';
import type { HttpServer } from '../core/http.js';
import { exposition, processMetrics } from '../core/process-metrics.js';
import { requirePermission } from '../core/security/principal.js';
import { JobsApiMetrics } from './api/metrics.js';
import type { CronFigures, JobFigures, ServiceFigures, WorkloadFigures } from './workload-figures.js';

const DEPLOYMENT_PHASES = ['pending', 'in_progress', 'paused', 'succeeded', 'failed', 'aborted', 'superseded'] as const;
const JOB_PHASES = ['pending', 'running', 'succeeded', 'failed', 'suspended'] as const;
const RUN_OUTCOMES = ['succeeded', 'failed', 'skipped'] as const;

/** `DEPLOYMENT_IN_PROGRESS` → `in_progress`; `JOB_FAILED` → `failed`. */
export function phaseLabel(phase: string): string {
  return phase.replace(/^(DEPLOYMENT|JOB)_/, '').toLowerCase();
}

export interface FrameworksMetricsSource {
  /** Does this host lead, its frameworks started? */
  leading(): boolean;
  /** The running frameworks' figures (empty while not leading). */
  figures(): readonly WorkloadFigures[];
}

export class FrameworksMetrics {
  /** Served by every host (the HTTP edge metrics of its own server go here too). */
  readonly own = new Registry();
  readonly workloads = new Registry();
  readonly api: JobsApiMetrics;
  readonly contentType = this.own.contentType;
  #leading = false;
  #cache: Figures | undefined;

  constructor(private readonly source: FrameworksMetricsSource) {
    this.api = new JobsApiMetrics(this.own);
    const host = this;
    new Gauge({
      name: 'agora_frameworks_leader',
      help: '1 on the frameworks host whose frameworks run (the leader), 0 on a standby',
      registers: [this.own],
      collect() {
        this.set(host.#leading ? 1 : 0);
      },
    });
    registerWorkloadMetrics(this.workloads, () => this.#figures());
  }

  /** The registries to serve now, after the process's (`agora up` adds these to the master's). */
  registries(): Registry[] {
    this.#leading = this.source.leading();
    this.#cache = undefined;
    return [this.own, ...(this.#leading ? [this.workloads] : [])];
  }

  /** The host's own /metrics: the process's figures, then ours. */
  scrape(): Promise<string> {
    return exposition([processMetrics(), ...this.registries()]);
  }

  /** GET /metrics on the host's own server, as the masters serve it: `cluster.view` unless the path is open (--open-metrics). */
  serve(app: HttpServer): void {
    registerHttpEdgeMetrics(this.own, app);
    app.get('/metrics', async (req, reply) => {
      if (req.agoraPrincipal) requirePermission(req.agoraPrincipal, 'cluster.view');
      return reply.header('content-type', this.contentType).send(await this.scrape());
    });
  }

  #figures(): Figures {
    // One read of the frameworks per scrape, however many families read it.
    return (this.#cache ??= this.#read());
  }

  #read(): Figures {
    const out = { services: [] as ServiceFigures[], cronjobs: [] as CronFigures[], jobs: [] as JobFigures[] };
    for (const f of this.source.figures()) {
      if (f.kind === 'SERVICE') out.services.push(...f.services);
      else if (f.kind === 'CRONJOB') out.cronjobs.push(...f.cronjobs);
      else out.jobs.push(...f.jobs);
    }
    return out;
  }
}

type Figures = { services: ServiceFigures[]; cronjobs: CronFigures[]; jobs: JobFigures[] };
type Read = () => Figures;

/** A gauge or counter of one series set per workload row (core/scraped-metrics.ts): none for a deleted one. */
function derived<T>(kind: 'gauge' | 'counter', registry: Registry, name: string, help: string, labelNames: string[], rows: () => readonly T[], each: (row: T, put: Put) => void): void {
  registerScraped([registry], { kind, name, help, labelNames, fill: (put) => rows().forEach((row) => each(row, put)) });
}

function registerWorkloadMetrics(registry: Registry, read: Read): void {
  const services = () => read().services;
  const cronjobs = () => read().cronjobs;
  const jobs = () => read().jobs;
  derived('gauge', registry, 'agora_service_instances_desired', 'Instances each service should have', ['service'], services, (s, set) => set({ service: s.name }, s.desired));
  derived('gauge', registry, 'agora_service_instances', "Each service's live instances that are running; of them healthy (or without a health check); of them ready (available: also ready where checked)", ['service', 'state'], services, (s, set) => {
    set({ service: s.name, state: 'running' }, s.running);
    set({ service: s.name, state: 'healthy' }, s.healthy);
    set({ service: s.name, state: 'ready' }, s.ready);
  });
  derived('gauge', registry, 'agora_service_deployment_phase', "1 for the phase of each service's latest deployment, 0 for the others", ['service', 'phase'], services, (s, set) => {
    for (const p of DEPLOYMENT_PHASES) set({ service: s.name, phase: p }, phaseLabel(s.phase) === p ? 1 : 0);
  });
  derived('counter', registry, 'agora_service_restarts_total', "Each service's tasks that failed and were relaunched, since this host started leading", ['service'], services, (s, inc) => inc({ service: s.name }, s.restarts));

  const seconds = (ms: number): number => ms / 1000;
  derived('gauge', registry, 'agora_cron_created_timestamp_seconds', 'When each cron job was created (Unix time)', ['cronjob'], cronjobs, (c, set) => set({ cronjob: c.name }, seconds(c.createdMs)));
  derived('gauge', registry, 'agora_cron_last_schedule_timestamp_seconds', 'The latest scheduled time each cron job has considered (Unix time; its creation until the first)', ['cronjob'], cronjobs, (c, set) => set({ cronjob: c.name }, seconds(c.lastScheduleMs)));
  derived('gauge', registry, 'agora_cron_last_success_timestamp_seconds', 'When a run of each cron job last succeeded (Unix time; 0: never)', ['cronjob'], cronjobs, (c, set) => set({ cronjob: c.name }, seconds(c.lastSuccessMs)));
  derived('gauge', registry, 'agora_cron_last_failure_timestamp_seconds', 'When a run of each cron job last failed for good, its retries spent (Unix time; 0: never)', ['cronjob'], cronjobs, (c, set) => set({ cronjob: c.name }, seconds(c.lastFailureMs)));
  derived('gauge', registry, 'agora_cron_next_schedule_timestamp_seconds', 'The next scheduled time of each cron job (none while suspended, or for a job that runs after others)', ['cronjob'], cronjobs, (c, set) => {
    if (c.nextScheduleMs !== undefined) set({ cronjob: c.name }, seconds(c.nextScheduleMs));
  });
  derived('gauge', registry, 'agora_cron_interval_seconds', "Seconds between each cron job's next two scheduled times (none while suspended, or for a job that runs after others)", ['cronjob'], cronjobs, (c, set) => {
    if (c.intervalMs !== undefined) set({ cronjob: c.name }, seconds(c.intervalMs));
  });
  derived('gauge', registry, 'agora_cron_active_runs', "Each cron job's runs not finished for good (pending, running, or failed with a retry to come)", ['cronjob'], cronjobs, (c, set) => set({ cronjob: c.name }, c.activeRuns));
  derived('counter', registry, 'agora_cron_runs_total', "Each cron job's runs by outcome (succeeded; failed, retries spent; skipped scheduled times), since this host started leading", ['cronjob', 'outcome'], cronjobs, (c, inc) => {
    for (const o of RUN_OUTCOMES) inc({ cronjob: c.name, outcome: o }, c.runs[o]);
  });

  derived('gauge', registry, 'agora_jobs', 'Jobs by phase', ['phase'], () => [jobs()], (all, set) => {
    for (const p of JOB_PHASES) set({ phase: p }, all.filter((j) => phaseLabel(j.phase) === p).length);
  });
  derived('gauge', registry, 'agora_job_phase', "1 for each job's phase, 0 for the others", ['job', 'phase'], jobs, (j, set) => {
    for (const p of JOB_PHASES) set({ job: j.name, phase: p }, phaseLabel(j.phase) === p ? 1 : 0);
  });
  derived('gauge', registry, 'agora_job_completions', 'Successful tasks each job needs', ['job'], jobs, (j, set) => set({ job: j.name }, j.completions));
  derived('gauge', registry, 'agora_job_tasks', "Each job's tasks in its current run: active, succeeded, failed", ['job', 'state'], jobs, (j, set) => {
    set({ job: j.name, state: 'active' }, j.active);
    set({ job: j.name, state: 'succeeded' }, j.succeeded);
    set({ job: j.name, state: 'failed' }, j.failed);
  });
}
