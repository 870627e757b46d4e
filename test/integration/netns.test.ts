// The namespaced hosts of test/support/netns.ts, for real: TCP between two hosts, a cut host
// unreachable (and unable to reach out), healed and back; nothing of it in the root namespace; all
// of it gone after destroy().
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { HostNetwork, SUBNET } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
import { eventually } from '../support/waits.js';

let network: HostNetwork | undefined;
afterAll(async () => network?.destroy());

const SERVER = "require('net').createServer((s) => s.end('hello from ' + process.argv[1] + '\\n')).listen(7000, process.argv[1])";

describe('namespaced hosts', () => {
  it('two hosts talk over TCP; a cut host is unreachable both ways; healed, it is back; destroy removes everything', async () => {
    network = await HostNetwork.create(['alpha', 'beta']);
    const alpha = network.host('alpha');
    const beta = network.host('beta');
    expect([alpha.ip, beta.ip]).toEqual([`${SUBNET}.10`, `${SUBNET}.11`]);
    const dir = await tempDir('netns');
    beta.run([process.execPath, '-e', SERVER, beta.ip], { dir, name: 'beta-server' });
    alpha.run([process.execPath, '-e', SERVER, alpha.ip], { dir, name: 'alpha-server' });
    const say = (from: typeof alpha, to: typeof alpha) => from.exec(['nc', '-w', '1', to.ip, '7000'], 3_000);
    await eventually(async () => expect((await say(alpha, beta)).stdout).toBe(`hello from ${beta.ip}\n`), { what: 'beta answering alpha' });
    // Nothing of the test network in the root namespace: no route to it, no address in it.
    expect(execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' })).not.toContain(SUBNET);
    expect(execFileSync('ip', ['-4', 'addr'], { encoding: 'utf8' })).not.toContain(SUBNET);

    await beta.cut();
    expect((await say(alpha, beta)).stdout).toBe('');
    expect((await say(beta, alpha)).stdout).toBe('');
    // Inside the cut host, its own address still answers: the host is up, only its link is gone.
    expect((await say(beta, beta)).stdout).toBe(`hello from ${beta.ip}\n`);

    await beta.heal();
    await eventually(async () => expect((await say(alpha, beta)).stdout).toBe(`hello from ${beta.ip}\n`), { what: 'beta back after the heal' });
    expect((await say(beta, alpha)).stdout).toBe(`hello from ${alpha.ip}\n`);

    const namespaces = [alpha.ns, beta.ns, network.bridgeNs];
    await network.destroy();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of namespaces) expect(left).not.toContain(ns);
  });
});
