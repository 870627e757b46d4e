// A gauge or a counter whose series are all rebuilt at each scrape from what a part of the process
// holds (kube-state-metrics' way): reset, then every series put again, so a series whose object is
// gone (a task ended, a workload deleted, an agent disconnected) disappears at the next scrape. A
// counter here is one another part counts; the metric only reads it.
import { Counter, Gauge, type Registry } from 'prom-client';

/** Sets one series (a gauge) or adds to it (a counter, from 0 at each scrape). */
export type Put = (labels: Record<string, string>, value: number) => void;

export interface ScrapedMetric {
  /** Default 'gauge'. */
  readonly kind?: 'gauge' | 'counter';
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
  /** Called at each scrape: put every series there is now. */
  fill(put: Put): void;
}

export function registerScraped(registers: Registry[], metric: ScrapedMetric): void {
  const base = { name: metric.name, help: metric.help, labelNames: metric.labelNames ?? [], registers };
  if (metric.kind === 'counter') {
    new Counter({
      ...base,
      collect() {
        this.reset();
        metric.fill((labels, value) => this.inc(labels, value));
      },
    });
    return;
  }
  new Gauge({
    ...base,
    collect() {
      this.reset();
      metric.fill((labels, value) => this.set(labels, value));
    },
  });
}
