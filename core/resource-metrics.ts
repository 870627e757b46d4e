// Resources as Prometheus gauges, the same way on the master and the agent. A resource is the label
// `resource` (as kube-state-metrics names it); a family holds one unit, so each measure is two
// families:
//
//   <name>{resource="cpus"|"gpus"|"ports"}      cpus and gpus as counted, ports: how many
//   <name>_bytes{resource="mem"|"disk"}         bytes (Agora's MiB × 1024²)
//
// so that summing a family over its labels never adds cores to bytes.
import { Gauge, type Registry } from 'prom-client';
import type { Resources } from './resources.js';

/** Resources counted in their own unit (ports: how many). */
export const COUNTED_RESOURCES = ['cpus', 'gpus', 'ports'] as const;
/** Resources Agora keeps in MiB, exposed in bytes. */
export const SIZED_RESOURCES = ['mem', 'disk'] as const;

export const MIB = 1024 * 1024;

/** One labelled set of resources: `labels` are the family's other labels (a role, …). */
export interface ResourceSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: Resources;
}

export interface ResourceGaugeSpec {
  /** The family without unit: `<name>` and `<name>_bytes` are made. */
  readonly name: string;
  /** What is measured; the unit is added per family. */
  readonly help: string;
  /** Labels besides `resource`. */
  readonly labelNames?: readonly string[];
  /** Read at scrape time. */
  read(): readonly ResourceSample[];
}

/** Register `<name>` and `<name>_bytes`, computed at scrape time. */
export function registerResourceGauges(registers: Registry[], spec: ResourceGaugeSpec): void {
  const labelNames = [...(spec.labelNames ?? []), 'resource'];
  new Gauge({
    name: spec.name,
    help: `${spec.help}: cpus, gpus, and ports (how many)`,
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const { labels, resources } of spec.read()) {
        for (const resource of COUNTED_RESOURCES) this.set({ ...labels, resource }, resource === 'ports' ? resources.count('ports') : resources.scalar(resource));
      }
    },
  });
  new Gauge({
    name: `${spec.name}_bytes`,
    help: `${spec.help}: mem and disk, in bytes`,
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const { labels, resources } of spec.read()) {
        for (const resource of SIZED_RESOURCES) this.set({ ...labels, resource }, resources.scalar(resource) * MIB);
      }
    },
  });
}
