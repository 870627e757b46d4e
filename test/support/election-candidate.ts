// A leader-election candidate in its own process, for tests that need one to die for real.
//
//   node --import tsx test/support/election-candidate.ts <store-url> <election-path> <name> [sessionTimeoutMs]
//
// Prints one JSON line per event on stdout: {"event":"started","member":…,"sessionId":…,
// "sessionTimeoutMs":…}, {"event":"elected"}, {"event":"lost","reason":…},
// {"event":"leaderChanged","leader":…}. SIGTERM resigns and exits; SIGKILL is the point.
import { LeaderElection } from '../../core/election.js';
import { openStore } from '../../core/store/index.js';

const [url, electionPath, name, timeout] = process.argv.slice(2);
if (!url || !electionPath || !name) {
  process.stderr.write('usage: election-candidate.ts <store-url> <election-path> <name> [sessionTimeoutMs]\n');
  process.exit(2);
}
const out = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...line, at: Date.now() })}\n`);

const store = await openStore(url, { sessionTimeoutMs: Number(timeout ?? 2_000) });
const election = new LeaderElection({ store, path: electionPath, data: { http: `${name}:5050`, pid: process.pid } });
election.on('elected', () => out({ event: 'elected' }));
election.on('lost', (reason) => out({ event: 'lost', reason }));
election.on('leaderChanged', (leader) => out({ event: 'leaderChanged', leader }));
await election.start();
out({ event: 'started', member: election.memberPath, sessionId: store.sessionId, sessionTimeoutMs: store.sessionTimeoutMs });

process.on('SIGTERM', () => {
  void election
    .resign()
    .then(() => store.close())
    .finally(() => process.exit(0));
});
