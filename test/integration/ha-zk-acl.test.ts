// Masters on ZooKeeper with digest credentials (issue 15), as processes: one given them in the
// --zk URL, one in --zk-credentials-file. They elect, run and fail over; an agent and a framework
// given a zk:// URL without credentials find the leader; the registry is private to the masters;
// the password reaches no log.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readLeader } from '../../core/election.js';
import { masterElectionPath, type MasterAdvert } from '../../core/discovery.js';
import { openStore, type Store } from '../../core/store/index.js';
import { FrameworkDriver } from '../../sdk/index.js';
import { startTestAgent, stopTestAgents } from '../support/agent-harness.js';
import { eventually } from '../support/master-harness.js';
import { getJson, killMasters, spawnMaster, type MasterProcess } from '../support/master-process.js';
import { expectCode } from '../support/store-contract.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { driverAccess } from '../support/security.js';

const SESSION_MS = 2000;
const PASSWORD = 'hunter2:with@and/';
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await stopTestAgents();
  await killMasters();
});

async function leaderOf(masters: readonly MasterProcess[], timeoutMs: number): Promise<MasterProcess> {
  return eventually(
    async () => {
      for (const m of masters) {
        const view = (await getJson(m.httpAddress, '/api/v1/leader').catch(() => ({ body: {} }))).body as { self?: boolean };
        if (view.self) return m;
      }
      throw new Error('no master leads');
    },
    { timeoutMs, intervalMs: 25, what: 'a leading master' },
  );
}

async function agentsOf(master: MasterProcess): Promise<string[]> {
  const body = (await getJson(master.httpAddress, '/api/v1/agents')).body as { agents?: Array<{ id: string }> };
  return (body.agents ?? []).map((a) => a.id);
}

describe('masters on ZooKeeper with credentials', () => {
  it('elect, run and fail over; an agent and a framework without credentials find the leader; the registry is theirs alone', async () => {
    const { zkEnsemble } = testServices();
    const root = `/agora-acl-${randomBytes(4).toString('hex')}`;
    const cluster = 'secure';
    const file = path.join(await tempDir('zk-credentials'), 'zk.credentials');
    fs.writeFileSync(file, `agora:${PASSWORD}\n`, { mode: 0o600 });
    const plainUrl = `zk://${zkEnsemble}${root}`;

    const viaUrl = await spawnMaster(`zk://agora:${encodeURIComponent(PASSWORD)}@${zkEnsemble}${root}`, cluster);
    const viaFile = await spawnMaster(plainUrl, cluster, { '--zk-credentials-file': file });
    const masters = [viaUrl, viaFile];
    const leader = await leaderOf(masters, 10_000);

    const agent = await startTestAgent(plainUrl, { cluster });
    await eventually(async () => expect(await agentsOf(leader)).toEqual([agent.agentId]), { timeoutMs: 10_000, what: 'the agent registered' });
    const driver = await FrameworkDriver.start({ master: plainUrl, cluster, framework: { name: 'acl-reader' }, ...driverAccess() });
    closers.push(() => driver.stop());
    expect(driver.masterAddress).toBe(leader.grpcAddress);

    const reader: Store = await openStore(plainUrl, { sessionTimeoutMs: SESSION_MS });
    closers.push(() => reader.close());
    expect((await readLeader<MasterAdvert>(reader, masterElectionPath(cluster)))?.data.grpcAddress).toBe(leader.grpcAddress);
    await expectCode(reader.getChildren(`/${cluster}/registry/agents`), 'AGORA_PERMISSION_DENIED');
    await expectCode(reader.getChildren('/'), 'AGORA_PERMISSION_DENIED');

    // The other master reads what the first wrote: both hold the same credentials.
    leader.kill('SIGKILL');
    const next = await leaderOf(masters.filter((m) => m !== leader), SESSION_MS + 8_000);
    await eventually(async () => expect(await agentsOf(next)).toEqual([agent.agentId]), { timeoutMs: 15_000, what: 'the agent re-registered' });
    await eventually(() => expect(driver.masterAddress).toBe(next.grpcAddress), { timeoutMs: 10_000, what: 'the framework followed' });

    for (const m of masters) {
      expect(m.log()).not.toContain(PASSWORD);
      expect(m.log()).not.toContain(encodeURIComponent(PASSWORD));
    }
  }, 90_000);
});
