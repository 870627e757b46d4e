// What each built-in framework tells the frameworks host's /metrics (frameworks/metrics.ts) about
// its workloads, read at scrape time from the framework's in-memory state: plain numbers per
// workload, so a framework knows nothing of Prometheus and the metrics know nothing of books.
// One entry per workload the framework holds now: a deleted workload has none, so its series go.

/** A service: desired and actual instances, its latest deployment's phase, failures relaunched. */
export interface ServiceFigures {
  readonly name: string;
  readonly desired: number;
  /** Live tasks RUNNING; of them healthy (or without a health check); of them ready (available). */
  readonly running: number;
  readonly healthy: number;
  readonly ready: number;
  /** The latest deployment's phase (`DEPLOYMENT_IN_PROGRESS`, …). */
  readonly phase: string;
  /** Tasks of the service that failed (and were relaunched) since this framework started. */
  readonly restarts: number;
}

/** A cron job: its times (epoch ms; 0 = never) and its runs' outcomes since this framework started. */
export interface CronFigures {
  readonly name: string;
  readonly createdMs: number;
  readonly lastScheduleMs: number;
  readonly lastSuccessMs: number;
  readonly lastFailureMs: number;
  /** The next scheduled time and the time between the next two (undefined: suspended, or runs after other jobs). */
  readonly nextScheduleMs: number | undefined;
  readonly intervalMs: number | undefined;
  readonly activeRuns: number;
  readonly runs: { readonly succeeded: number; readonly failed: number; readonly skipped: number };
}

/** A job: its phase and its tasks' counts. */
export interface JobFigures {
  readonly name: string;
  /** `JOB_PENDING`, `JOB_RUNNING`, … */
  readonly phase: string;
  readonly completions: number;
  readonly active: number;
  readonly succeeded: number;
  readonly failed: number;
}

export type WorkloadFigures =
  | { readonly kind: 'SERVICE'; readonly services: readonly ServiceFigures[] }
  | { readonly kind: 'CRONJOB'; readonly cronjobs: readonly CronFigures[] }
  | { readonly kind: 'JOB'; readonly jobs: readonly JobFigures[] };

/** A framework that reports figures (every built-in one does). */
export interface ReportsFigures {
  figures(): WorkloadFigures;
}
