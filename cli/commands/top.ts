// `agora top`: resources in use per agent and per role, from the master's operator API.
import type { Command } from 'commander';
import { withClientFlags } from '../client.js';
import { topTables, type AgentJson, type RoleJson } from './cluster-views.js';
import { clientFor } from './shared.js';

export function registerTopCommand(program: Command): void {
  const cmd = program.command('top').description('resources in use per agent and per role');
  withClientFlags(cmd).action(async () => {
    const client = clientFor(cmd);
    const [{ agents }, { roles }] = await Promise.all([client.master<{ agents: AgentJson[] }>('/api/v1/agents'), client.master<{ roles: RoleJson[] }>('/api/v1/roles')]);
    process.stdout.write(topTables(agents, roles));
  });
}
