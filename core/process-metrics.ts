// What every Agora process says about itself on /metrics, whatever its role: prom-client's default
// collectors (process CPU, memory, file descriptors, event-loop lag, heap, GC) and
// `agora_build_info`. One registry per process, made on first use: the figures are the process's,
// so a master and an agent sharing one (`agora up`, tests) show the same ones, and the collectors
// (a GC observer, an event-loop monitor) are started once, not once per server.
//
// prom-client also names three gauges `_total` (`nodejs_active_{handles,requests,resources}_total`),
// which `promtool check metrics` refuses; each is the sum of its by-type twin (`nodejs_active_handles`
// by `type`), so they are removed.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from './version.js';

/** prom-client's gauges named like counters: dropped (their by-type twins stay). */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

let shared: Registry | undefined;

/** The process's own metrics (default collectors and build info), shared by every server in it. */
export function processMetrics(): Registry {
  if (shared) return shared;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  new Gauge({
    name: 'agora_build_info',
    help: 'Always 1; the Agora version and the Node.js version this process runs',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: VERSION, node_version: process.version }, 1);
  shared = registry;
  return registry;
}

/** The exposition text of several registries, in order (their metric names must not overlap). */
export async function exposition(registries: readonly Registry[]): Promise<string> {
  const texts = await Promise.all(registries.map((r) => r.metrics()));
  return texts.filter((t) => t.trim() !== '').map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('');
}
