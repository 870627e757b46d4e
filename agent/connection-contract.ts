// What MasterConnection (connection.ts) is given and what it tells: its options, and the handlers
// through which the agent — or a simulated one (bench/sim-agent.ts) — takes part.
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../core/clock.js';
import type { MasterDiscovery } from '../core/discovery.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { AgentMessage, AgentRegistered__Output, AgentUsage, MasterMessage__Output } from '../proto/index.js';
import type { GatewayTransport } from './gateway-transport.js';

export type ConnectionState = 'IDLE' | 'CONNECTING' | 'REGISTERING' | 'REGISTERED' | 'BACKOFF' | 'CLOSED';

export interface ConnectionHandlers {
  /** The first message of a new stream: register or reregister (or it, encoded). */
  hello(): AgentMessage | Buffer | Promise<AgentMessage | Buffer>;
  /** The master answered registered / reregistered; messages wait until this resolves. */
  onRegistered(answer: AgentRegistered__Output, master: string, details: RegistrationDetails): void | Promise<void>;
  /** What the agent's tasks use, sent with every pong (agent/usage.ts); none without it. */
  usage?(): AgentUsage | undefined;
  /** The stream is registered and messages flow (after onRegistered). */
  onConnected?(): void;
  /** Any other message from the master, while registered. */
  onMessage(message: MasterMessage__Output): void;
  /** The registered stream is gone (the agent reconnects by itself). */
  onDisconnected(reason: string): void;
  /** The agent's stream failed: refused by a master that does not lead, or lost otherwise. */
  onStreamLost?(kind: 'not-leader' | 'lost'): void;
}

export interface RegistrationDetails {
  /** When the answered hello was sent (clock time). */
  readonly helloSentAtMs: number;
  /** The hello had waited at the successor since the stream to the leader broke. */
  readonly viaSuccessor: boolean;
}

export interface ConnectionOptions {
  readonly discovery: MasterDiscovery;
  readonly clock: Clock;
  readonly random?: Random;
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  readonly registrationTimeoutMs: number;
  readonly logger: Logger;
  /** How to reach the master: TLS with the agent's certificate (plaintext only when --insecure). */
  readonly credentials?: grpc.ChannelCredentials;
  /** Streams over this transport instead (shared, so not closed by stop()); else channels of our own. */
  readonly transport?: GatewayTransport;
  /** Run a connect the election asked for at once (default: on the next timer turn). */
  readonly wake?: (connect: () => void) => void;
}
