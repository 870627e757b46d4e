// The master's authenticator on its own (an in-memory store, a fake "now"): tokens that expire
// without anyone waiting, policies whose changes count at once, and client certificates checked
// against the CA, their dates and their usage.
import { describe, expect, it } from 'vitest';
import { AclAuthenticator } from '../../core/security/acl-authenticator.js';
import { AclStore } from '../../core/security/acl-store.js';
import { CertificateVerifier } from '../../core/security/certificates.js';
import { createCa, createCertificate } from '../../core/security/pki.js';
import { may } from '../../core/security/principal.js';
import { openStore } from '../../core/store/index.js';
import { thrown } from '../support/thrown.js';

const DAY = 86_400_000;

async function acl(): Promise<AclStore> {
  return AclStore.open(await openStore('memory:', { chroot: '/agora' }), 'default');
}

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

describe('tokens', () => {
  it('expire at their time, by the clock the master is given', async () => {
    const store = await acl();
    let now = 1_000_000;
    const auth = new AclAuthenticator(store, undefined, () => now);
    const { token } = await store.createToken({ principal: 'temp', policies: ['viewer'], ttlMs: 60_000, createdBy: 'admin', now });
    expect(auth.authenticate({ token }).name).toBe('temp');
    now += 59_999;
    expect(auth.authenticate({ token }).name).toBe('temp');
    now += 1;
    const err = thrown(() => auth.authenticate({ token }));
    expect(err.code).toBe('AGORA_UNAUTHENTICATED');
    expect(err.message).toBe(`the bearer token expired at ${new Date(1_060_000).toISOString()}`);
  });

  it('take a changed policy into account at once, and lose a deleted one', async () => {
    const store = await acl();
    const auth = new AclAuthenticator(store, undefined);
    await store.putPolicy({ name: 'ops', rules: [{ allow: ['cluster.view'] }] });
    const { token } = await store.createToken({ principal: 'olga', policies: ['ops'], createdBy: 'admin', now: 0 });
    expect(may(auth.authenticate({ token }), 'agents.drain')).toBe(false);
    await store.putPolicy({ name: 'ops', rules: [{ allow: ['cluster.view', 'agents.drain'] }] });
    expect(may(auth.authenticate({ token }), 'agents.drain')).toBe(true);
    await store.deletePolicy('ops');
    expect(auth.authenticate({ token }).grants).toEqual([]);
  });

  it('another AclStore on the same store sees a token created or revoked elsewhere (a standby master)', async () => {
    const shared = await openStore('memory://acl-shared', { chroot: '/agora' });
    const leader = await AclStore.open(shared, 'default');
    const standby = await AclStore.open(await openStore('memory://acl-shared', { chroot: '/agora' }), 'default');
    const { token, record } = await leader.createToken({ principal: 'p', policies: ['viewer'], createdBy: 'admin', now: 0 });
    const auth = new AclAuthenticator(standby, undefined);
    await expect.poll(() => standby.token(record.accessor)).toBeDefined();
    expect(auth.authenticate({ token }).name).toBe('p');
    await leader.revokeToken(record.accessor);
    await expect.poll(() => standby.token(record.accessor)).toBeUndefined();
    expect(thrown(() => auth.authenticate({ token })).code).toBe('AGORA_UNAUTHENTICATED');
    leader.close();
    standby.close();
  });
});

describe('client certificates', () => {
  it('name their principal (CN) and policies (OU) when signed by the CA, for client use, and in date', async () => {
    const ca = await createCa();
    const other = await createCa({ name: 'Other CA' });
    const verifier = new CertificateVerifier(ca.certPem);
    const client = await createCertificate({ ca, name: 'robot', usage: 'client', policies: ['viewer', 'agent'] });
    const serverOnly = await createCertificate({ ca, name: 'web', usage: 'server', hosts: ['web.example'] });
    const foreign = await createCertificate({ ca: other, name: 'robot', usage: 'client', policies: ['admin'] });
    const now = Date.now();
    expect(verifier.verify(der(client.certPem), now)).toMatchObject({ ok: true, identity: { name: 'robot', policies: ['viewer', 'agent'] } });
    expect(verifier.verify(der(serverOnly.certPem), now)).toEqual({ ok: false, reason: 'the certificate is not meant for client authentication' });
    expect(verifier.verify(der(foreign.certPem), now)).toMatchObject({ ok: false, reason: expect.stringContaining("is not signed by this cluster's CA") });
    expect(verifier.verify(der(client.certPem), now + 900 * DAY)).toMatchObject({ ok: false, reason: expect.stringContaining('is not valid now') });
    expect(verifier.verify(Buffer.from('not a certificate'), now)).toEqual({ ok: false, reason: 'the client certificate cannot be parsed' });
    // The master's authenticator turns a good one into a principal with its policies' grants.
    const auth = new AclAuthenticator(await acl(), verifier);
    const principal = auth.authenticate({ certificate: der(client.certPem) });
    expect(principal).toMatchObject({ name: 'robot', via: 'certificate' });
    expect(may(principal, 'agents.register')).toBe(true);
    expect(may(principal, 'jobs.read', 'JOB')).toBe(true);
    expect(may(principal, 'acl.manage')).toBe(false);
  });
});
