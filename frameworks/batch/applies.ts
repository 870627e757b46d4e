// Applies, grouped: every apply that arrives while the framework is busy waits for one serial step
// that decides them all (in arrival order, each against the book as the ones before it left it),
// creates the new jobs in one store transaction, plans the changed jobs once, and answers each.
// Each caller still gets its own answer or error (a spec change refused names its field; a write
// refused fails only the applies it carried) and only once its job is durable. Two applies of one
// name never share a step: the later waits for the next, so it sees the earlier one's outcome.
import type { ApplyOutcome } from '../workload.js';
import type { JobBook, JobRecord } from './book.js';
import type { JobSupervisor } from './supervisor.js';
import type { JobSpecDoc } from './spec.js';

export interface AppliesDeps {
  readonly book: JobBook;
  readonly supervisor: JobSupervisor;
  readonly now: () => number;
  /** What applying `spec` does to the job (framework.ts changeOf; throws InvalidArgumentError naming a locked field). */
  readonly change: (existing: JobRecord | undefined, spec: JobSpecDoc, now: number) => { readonly result: ApplyOutcome['result']; readonly record: JobRecord };
  /** Run in the framework's serial section (rejects while the framework is not running). */
  readonly act: <T>(fn: () => Promise<T>) => Promise<T>;
}

interface Request {
  readonly spec: JobSpecDoc;
  readonly dryRun: boolean;
  readonly resolve: (outcome: ApplyOutcome) => void;
  readonly reject: (err: unknown) => void;
}

interface Decided {
  readonly req: Request;
  readonly record: JobRecord;
  readonly existing: JobRecord | undefined;
  readonly outcome: ApplyOutcome;
}

export class Applies {
  #pending: Request[] = [];

  constructor(private readonly deps: AppliesDeps) {}

  submit(spec: JobSpecDoc, dryRun: boolean): Promise<ApplyOutcome> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ spec, dryRun, resolve, reject });
      if (this.#pending.length === 1) this.#schedule();
    });
  }

  #schedule(): void {
    this.deps.act(() => this.#step()).catch((err: unknown) => {
      // Not running (or a bug before the step took its requests): whatever waits is refused.
      for (const req of this.#pending.splice(0)) req.reject(err);
    });
  }

  async #step(): Promise<void> {
    const batch = this.#pending.splice(0);
    const names = new Set<string>();
    const later: Request[] = [];
    const decided: Decided[] = [];
    for (const req of batch) {
      if (names.has(req.spec.name)) {
        later.push(req);
        continue;
      }
      names.add(req.spec.name);
      const existing = this.deps.book.get(req.spec.name);
      try {
        const out = this.deps.change(existing, req.spec, this.deps.now());
        const outcome: ApplyOutcome = { kind: 'JOB', name: req.spec.name, version: `v${out.record.version}`, result: out.result };
        if (req.dryRun || out.result === 'UNCHANGED') req.resolve(outcome);
        else decided.push({ req, record: out.record, existing, outcome });
      } catch (err) {
        req.reject(err);
      }
    }
    try {
      await this.#write(decided);
    } finally {
      if (later.length > 0) {
        const scheduled = this.#pending.length > 0;
        this.#pending.unshift(...later);
        if (!scheduled) this.#schedule();
      }
    }
  }

  /** New jobs in one transaction, changed ones one by one; one plan; then the answers. */
  async #write(decided: readonly Decided[]): Promise<void> {
    const { book, supervisor } = this.deps;
    const created = decided.filter((d) => d.existing === undefined);
    const errors = new Map<Decided, unknown>();
    const failures = await book.createMany(created.map((d) => d.record));
    created.forEach((d, i) => failures[i] !== undefined && errors.set(d, failures[i]));
    for (const d of decided) {
      if (d.existing === undefined) continue;
      try {
        await book.put(d.record);
        if (d.record.runs !== d.existing.runs) supervisor.forgetRun(d.record.name);
      } catch (err) {
        errors.set(d, err);
      }
    }
    const written = decided.filter((d) => !errors.has(d));
    try {
      if (written.length > 0) await supervisor.replan(written.map((d) => d.record.name));
    } catch (err) {
      for (const d of written) errors.set(d, err);
    }
    for (const d of decided) {
      if (errors.has(d)) d.req.reject(errors.get(d));
      else d.req.resolve(d.outcome);
    }
  }
}
