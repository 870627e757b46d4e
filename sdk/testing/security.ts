// A kit cluster is secured as `agora up` is: a CA of its own, a certificate for the master and one
// for the agents, an admin token and a token for the frameworks under test — made in memory when the
// cluster starts (nothing written to disk), so a test connects exactly as a real framework does.
import { createCa, createCertificate } from '../../core/security/pki.js';
import type { ServerTls } from '../../core/security/tls.js';
import { newToken } from '../../core/security/tokens.js';
import type { KnownToken } from '../../master/security.js';

/** The principal the kit's framework token belongs to. */
export const TEST_FRAMEWORK_PRINCIPAL = 'test-framework';

export interface TestClusterSecurity {
  /** The cluster CA (PEM): what clients trust. */
  readonly ca: Buffer;
  readonly masterTls: ServerTls;
  readonly agentTls: ServerTls;
  /** Principal `admin`, policy admin. */
  readonly adminToken: string;
  /** Principal `test-framework`, the built-in policy `frameworks`: register in any role, run tasks as any user. */
  readonly frameworkToken: string;
  /** Both tokens, as the master registers them at start. */
  readonly tokens: readonly KnownToken[];
}

export async function makeTestClusterSecurity(hostname: string): Promise<TestClusterSecurity> {
  const hosts = [...new Set([hostname, '127.0.0.1', 'localhost', '::1'])];
  const ca = await createCa({ name: 'Agora test cluster CA', days: 7 });
  const [server, agent] = await Promise.all([
    createCertificate({ ca, name: 'master', usage: 'both', hosts, days: 7 }),
    createCertificate({ ca, name: 'agent', usage: 'both', hosts, policies: ['agent'], days: 7 }),
  ]);
  const caPem = Buffer.from(ca.certPem);
  const adminToken = newToken().token;
  const frameworkToken = newToken().token;
  return {
    ca: caPem,
    masterTls: { ca: caPem, cert: Buffer.from(server.certPem), key: Buffer.from(server.keyPem) },
    agentTls: { ca: caPem, cert: Buffer.from(agent.certPem), key: Buffer.from(agent.keyPem) },
    adminToken,
    frameworkToken,
    tokens: [
      { token: adminToken, principal: 'admin', policies: ['admin'], description: 'test cluster admin' },
      { token: frameworkToken, principal: TEST_FRAMEWORK_PRINCIPAL, policies: ['frameworks'], description: 'test cluster frameworks' },
    ],
  };
}
