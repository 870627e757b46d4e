// `agora drain|undrain|cordon|uncordon agent/ID`: an operator takes an agent out of scheduling.
// Cordon (kubectl cordon, Mesos DEACTIVATE_AGENT): no new offers from it, its tasks keep running.
// Drain: no new offers and its tasks killed, each within --grace (and its own kill policy);
// "drained" once none is left. Both need the agents.drain permission and survive a failover.
import type { Command } from 'commander';
import { parseDuration } from '../../core/options.js';
import { withClientFlags } from '../client.js';
import { parseAgentRef } from './agent-ref.js';
import type { AgentJson } from './cluster-views.js';
import { clientFor } from './shared.js';

interface Verb {
  readonly name: 'drain' | 'undrain' | 'cordon' | 'uncordon';
  readonly description: string;
  readonly done: string;
}

const VERBS: readonly Verb[] = [
  { name: 'drain', description: 'stop offering an agent and kill its tasks, for maintenance (e.g. agora drain agent/S1 --grace 30s)', done: 'draining' },
  { name: 'undrain', description: 'offer a drained agent again', done: 'undrained' },
  { name: 'cordon', description: 'stop offering an agent; its running tasks are left alone', done: 'cordoned' },
  { name: 'uncordon', description: 'offer a cordoned agent again', done: 'uncordoned' },
];

export function registerAgentAdminCommands(program: Command): void {
  for (const verb of VERBS) {
    const cmd = program.command(verb.name).description(verb.description).argument('<agent>', 'agent/ID (agora get agents lists them)');
    if (verb.name === 'drain') cmd.option('--grace <duration>', "how long each task has to stop (default: the master's --drain-grace-period)");
    withClientFlags(cmd).action(async (refText: string, flags: { grace?: string }) => {
      const id = parseAgentRef(refText);
      const graceMs = flags.grace === undefined ? undefined : parseDuration(flags.grace, '--grace');
      const body = graceMs === undefined ? {} : { gracePeriodSeconds: graceMs / 1000 };
      const { agent } = await clientFor(cmd).master<{ agent: AgentJson }>(`/api/v1/agents/${encodeURIComponent(id)}/${verb.name}`, { method: 'POST', body });
      process.stdout.write(`agent/${agent.id} (${agent.hostname}) ${verb.name === 'drain' ? (agent.drain?.state ?? verb.done) : verb.done}\n`);
    });
  }
}
