// Who serves the Jobs API right now. Several frameworks instances share one store; only the
// elected one has controllers. The others answer with where the leader is: gRPC UNAVAILABLE with
// the leader's address in metadata, HTTP 307 to the leader's URL (503 when none is known).
import { NotLeaderError, UnavailableError } from '../../core/errors.js';

export interface LeaderAddresses {
  readonly grpcAddress?: string;
  readonly httpAddress?: string;
}

export interface ServingGate {
  /** True while this instance leads and its controllers are started. */
  serving(): boolean;
  /** The leader's addresses when another instance leads. */
  leader(): LeaderAddresses | undefined;
}

/** Throw unless this instance serves (for gRPC: the error carries the leader's gRPC address). */
export function checkServing(gate: ServingGate): void {
  if (gate.serving()) return;
  const leader = gate.leader();
  if (leader?.grpcAddress) throw new NotLeaderError(leader.grpcAddress);
  throw new UnavailableError('the frameworks are not running here yet (no leader elected, or starting); retry shortly');
}

/** A gate that always serves (an API over controllers this process owns outright). */
export const ALWAYS_SERVING: ServingGate = Object.freeze({ serving: () => true, leader: () => undefined });
