// Which HTTP requests a master answers itself, and where it sends the rest.
//
//   request ─► standby path (/health, /version, /metrics, /api/v1/leader)? ─► answered here
//           └► acting as leader?  ─ yes ─► the routes
//                                 └ no ──► 307 to the leader it knows (not itself), else 503 NotLeader
//
// "Acting" is the same test the gRPC services apply (Master's lease): elected, not stopping, and
// the store session vouched for within 2/3 of its timeout. Being elected is not enough: a master
// resumed from a freeze still believes it leads until its store says otherwise, while another
// master may already lead. Until its session is vouched for again it answers like a standby that
// knows no leader: 503, naming none, so clients look elsewhere and come back.
import { NotLeaderError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';

/** Paths a master that does not act as leader still answers itself. */
export const STANDBY_PATHS: ReadonlySet<string> = new Set(['/health', '/version', '/metrics', '/api/v1/leader']);

export interface LeaderGuard {
  /** May this master act as leader right now (elected, leading, session vouched for)? */
  acting(): boolean;
  /** The HTTP address of the leader as this master knows it (possibly itself), if any. */
  leaderHttpAddress(): string | undefined;
  readonly httpAddress: string;
  readonly scheme: 'http' | 'https';
}

/** Let through only what this master may answer now; redirect or refuse the rest. */
export function registerLeaderGuard(app: HttpServer, guard: LeaderGuard): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (STANDBY_PATHS.has(path) || guard.acting()) return;
    const leader = guard.leaderHttpAddress();
    if (leader && leader !== guard.httpAddress) return reply.redirect(`${guard.scheme}://${leader}${request.url}`, 307);
    return reply.status(503).send(new NotLeaderError(undefined).toJSON());
  });
}
