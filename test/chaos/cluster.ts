// The chaos cluster, as the seed users ran it: 3 ZooKeeper nodes, 3 masters, 3 agents
// (process executor) and 2 `agora frameworks` processes, each under a supervisor. Everything lives
// in one directory of this process's run directory (tmp.ts), and every process's command line names
// it (its PKI files are there), so a crash of this process leaves nothing the reaper cannot find.
//
//   ChaosCluster.start(dir) ─┬─ startZkEnsemble(3)            own ensemble (the test run's is shared)
//                            ├─ Supervised master-0..2       agora master --zk zk://…/agora
//                            ├─ Supervised agent-0..2        agora agent --master zk://…  (work dir kept)
//                            └─ Supervised frameworks-0..1   agora frameworks --master zk://…
import path from 'node:path';
import { agoraArgv } from '../support/build.js';
import { FAST_MASTER_FLAGS } from '../support/master-process.js';
import { testPki } from '../support/security.js';
import { startZkEnsemble, type ZkEnsemble } from '../support/zookeeper.js';
import { TOPOLOGY, type Role } from './plan.js';
import { Supervised } from './supervisor.js';

export const CLUSTER_NAME = 'chaos';
/** Each agent's resources: room for the service (with surge), a cron run and the batch job's parallelism. */
const AGENT_RESOURCES = 'cpus:2;mem:2048;disk:4096';

export class ChaosCluster {
  private constructor(
    readonly dir: string,
    readonly ensemble: ZkEnsemble,
    readonly masters: readonly Supervised[],
    readonly agents: readonly Supervised[],
    readonly frameworks: readonly Supervised[],
  ) {}

  /** The run's PKI must be in AGORA_TEST_PKI (makeTestPki) before this is called. */
  static async start(dir: string): Promise<ChaosCluster> {
    const ensemble = await startZkEnsemble(TOPOLOGY.zookeepers);
    const pki = testPki();
    const zk = `zk://${ensemble.connectString}/agora`;
    const masterFlags: Record<string, string> = {
      ...FAST_MASTER_FLAGS,
      '--log-level': 'warn',
      '--tls-ca': pki.files.ca,
      '--tls-cert': pki.files.serverCert,
      '--tls-key': pki.files.serverKey,
      '--bootstrap-token-file': pki.files.adminToken,
      '--zk-credentials-file': pki.files.zkCredentials,
    };
    const masters = range(TOPOLOGY.masters).map(
      (i) =>
        new Supervised({
          role: 'master',
          index: i,
          dir: path.join(dir, `master-${i}`),
          args: agoraArgv('master', '--zk', zk, '--cluster', CLUSTER_NAME, ...Object.entries(masterFlags).flat()),
          ready: /^master \S+ .*: grpc \S+, http https?:\/\/(\S+)$/m,
        }),
    );
    const agents = range(TOPOLOGY.agents).map((i) => {
      const agentDir = path.join(dir, `agent-${i}`);
      const flags: Record<string, string> = {
        '--master': zk,
        '--cluster': CLUSTER_NAME,
        '--hostname': '127.0.0.1',
        '--http-port': '0',
        '--work-dir': path.join(agentDir, 'work'),
        '--resources': AGENT_RESOURCES,
        '--status-update-retry': '500ms',
        '--status-update-retry-max': '2s',
        '--reconnect-backoff': '100ms',
        '--reconnect-backoff-max': '1s',
        '--registration-timeout': '2s',
        '--kill-grace-period': '1s',
        '--disk-watch-interval': '1h',
        '--log-level': 'warn',
        '--tls-ca': pki.files.ca,
        '--tls-cert': pki.files.agentCert,
        '--tls-key': pki.files.agentKey,
      };
      return new Supervised({ role: 'agent', index: i, dir: agentDir, args: agoraArgv('agent', ...Object.entries(flags).flat()), ready: /agent listening: http https?:\/\/([^\s,]+)/ });
    });
    const frameworks = range(TOPOLOGY.frameworks).map((i) => {
      const flags: Record<string, string> = {
        '--master': zk,
        '--cluster': CLUSTER_NAME,
        '--grpc-port': '0',
        '--http-port': '0',
        '--dns-port': '0',
        '--retry-delay': '200ms',
        '--zk-session-timeout': '2s',
        '--log-level': 'warn',
        '--tls-ca': pki.files.ca,
        '--tls-cert': pki.files.serverCert,
        '--tls-key': pki.files.serverKey,
        '--token-file': pki.files.adminToken,
        '--zk-credentials-file': pki.files.zkCredentials,
      };
      return new Supervised({ role: 'frameworks', index: i, dir: path.join(dir, `frameworks-${i}`), args: agoraArgv('frameworks', ...Object.entries(flags).flat()), ready: /frameworks listening: grpc \S+, http https?:\/\/(\S+)/ });
    });
    const cluster = new ChaosCluster(dir, ensemble, masters, agents, frameworks);
    try {
      await Promise.all(masters.map((m) => m.start()));
      await Promise.all([...agents, ...frameworks].map((p) => p.start()));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  processes(role: Role): readonly Supervised[] {
    return role === 'master' ? this.masters : role === 'agent' ? this.agents : this.frameworks;
  }

  all(): Supervised[] {
    return [...this.masters, ...this.agents, ...this.frameworks];
  }

  /** The agent's work directory (checkpoints and sandboxes). */
  agentWorkDir(index: number): string {
    return path.join(this.dir, `agent-${index}`, 'work');
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.all().map((p) => p.close()));
    await this.ensemble.stop();
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
