// GET /api/v1/usage/history (cluster.view): the leader's samples of the cluster's total, allocated
// and used resources (master/usage-history.ts), oldest first, for the dashboard's overview charts.
// `used` is what the agents measure: cpus, memory as working sets, disk as the tasks' sandbox sizes
// (the agents' disk watch: tasks with a disk resource; an agent too old to send it counts 0).
import type { HttpServer } from '../../core/http.js';
import type { Resources } from '../../core/resources.js';
import { principalOf } from '../../core/security/edge.js';
import { requirePermission } from '../../core/security/principal.js';
import type { MasterState } from '../state.js';
import { UsageHistory, type Amounts, type UsageSample } from '../usage-history.js';
import type { OperatorContext } from './context.js';
import { clusterResources } from './views.js';

const MIB = 1024 * 1024;

export function registerUsageHistory(app: HttpServer, ctx: OperatorContext): void {
  const { state } = ctx;
  const history = new UsageHistory({
    clock: state.clock,
    intervalMs: state.options.usageHistoryInterval,
    size: state.options.usageHistorySize,
    sample: () => clusterSample(state),
    leading: () => ctx.lifecycle === 'LEADING',
  });
  history.start();
  app.addHook('onClose', async () => history.stop());
  app.get('/api/v1/usage/history', async (req) => {
    requirePermission(principalOf(req), 'cluster.view');
    return { intervalMs: history.intervalMs, samples: history.samples() };
  });
}

/** The cluster now: the allocator's totals and allocations, and the connected agents' measured use. */
export function clusterSample(state: MasterState): Omit<UsageSample, 't'> {
  const cluster = clusterResources(state);
  let cpus = 0;
  let memBytes = 0;
  let diskBytes = 0;
  for (const a of state.allAgents()) {
    if (a.state !== 'connected' || !a.usage) continue;
    cpus += a.usage.cpus;
    memBytes += a.usage.memBytes;
    diskBytes += a.usage.diskBytes;
  }
  return { total: amounts(cluster.total), allocated: amounts(cluster.allocated), used: { cpus, mem: memBytes / MIB, disk: diskBytes / MIB } };
}

function amounts(r: Resources): Amounts {
  return { cpus: r.scalar('cpus'), mem: r.scalar('mem'), disk: r.scalar('disk') };
}
