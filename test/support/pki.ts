// The test run's certificates and tokens, made once by the global setup (≈ 0.3 s) and read by
// every worker from AGORA_TEST_PKI, so that every test runs with security on, as users do:
//
//   ca.pem ca-key.pem                 the cluster CA
//   server.pem server-key.pem         masters and the Jobs API: 127.0.0.1, localhost, ::1
//   agent.pem agent-key.pem           agents: client and server (OU agent)
//   admin.pem admin-key.pem           a client certificate holding the admin policy
//   foreign-ca.pem                    another CA, and a client certificate it signed (OU admin):
//   foreign.pem foreign-key.pem       presented to a cluster, it must be refused
//   admin-token frameworks-token      tokens each test master registers (admin; the built-in frameworks)
//   zk-credentials                    user:password, the ZooKeeper digest credentials of test masters
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, createCertificate, type PemPair } from '../../core/security/pki.js';
import { newToken } from '../../core/security/tokens.js';

export const PKI_ENV = 'AGORA_TEST_PKI';
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

export async function makeTestPki(dir: string): Promise<void> {
  const [ca, foreignCa] = await Promise.all([createCa({ name: 'Agora test CA' }), createCa({ name: 'Someone else CA' })]);
  const [server, agent, admin, foreign] = await Promise.all([
    createCertificate({ ca, name: 'master', usage: 'both', hosts: LOOPBACK_HOSTS, policies: ['agent'] }),
    createCertificate({ ca, name: 'agent-1', usage: 'both', hosts: LOOPBACK_HOSTS, policies: ['agent'] }),
    createCertificate({ ca, name: 'admin-cert', usage: 'client', policies: ['admin'] }),
    createCertificate({ ca: foreignCa, name: 'intruder', usage: 'client', policies: ['admin'] }),
  ]);
  const write = (name: string, text: string): void => writeFileSync(path.join(dir, name), text, { mode: 0o600 });
  const pair = (name: string, p: PemPair): void => {
    write(`${name}.pem`, p.certPem);
    write(`${name}-key.pem`, p.keyPem);
  };
  write('ca.pem', ca.certPem);
  write('ca-key.pem', ca.keyPem);
  write('foreign-ca.pem', foreignCa.certPem);
  pair('server', server);
  pair('agent', agent);
  pair('admin', admin);
  pair('foreign', foreign);
  write('admin-token', `${newToken().token}\n`);
  write('frameworks-token', `${newToken().token}\n`);
  write('zk-credentials', `agora:${randomBytes(12).toString('hex')}\n`);
}
