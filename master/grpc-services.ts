// The master's gRPC edge: the Scheduler service (framework streams and calls) and the AgentGateway
// (one bidirectional stream per agent). Wire ↔ master calls in one place; errors mapped by core/grpc.
import type * as grpc from '@grpc/grpc-js';
import { LEADER_LOST_HEADER } from '../core/discovery.js';
import { STREAM_ID_METADATA_KEY, toGrpcError } from '../core/grpc.js';
import type { Authenticator } from '../core/security/authenticate.js';
import { authenticateCall, authenticatedUnary } from '../core/security/edge.js';
import { requirePermission, type Principal } from '../core/security/principal.js';
import type {
  AgentGatewayHandlers,
  AgentMessage__Output,
  Event,
  MasterMessage,
  SchedulerHandlers,
  SubscribeRequest__Output,
} from '../proto/index.js';
import { accept, decline } from './accept.js';
import { acknowledgeBatch, type AcknowledgeBatchInput } from './acknowledgements.js';
import { AgentSession } from './agent-session.js';
import {
  acknowledge,
  boundFramework,
  frameworkMessage,
  kill,
  removeFramework,
  revive,
  streamClosed,
  subscribe,
  suppress,
  updateFramework,
} from './frameworks.js';
import type { FrameworkStream } from './model.js';
import { reconcile } from './reconciliation.js';
import type { MasterState } from './state.js';

/** Who may act: NotLeaderError (UNAVAILABLE + leader address) when this master does not lead. */
export interface LeadershipGuard {
  /** Throws at once. */
  guard(): void;
  /**
   * For a new stream: waits (bounded) while this master is being elected — or, given the client's
   * word that its stream to `lostLeader` broke, while this master is next in line behind it —
   * then as guard().
   */
  admit(lostLeader?: string): Promise<void>;
}

/**
 * Every call is authenticated; every call after Subscribe is bound to its framework — registered by
 * the same principal — and to the framework's current subscription (agora-stream-id).
 */
export function schedulerHandlers(state: MasterState, { guard, admit }: LeadershipGuard, auth: Authenticator): SchedulerHandlers {
  type Bound = { frameworkId?: string; frameworkInfo?: { id?: string } | null };
  const answering = <Req extends Bound, Res>(fn: (req: Req, principal: Principal) => Res | Promise<Res>) =>
    authenticatedUnary<Req, Res>(auth, (req, principal, c) => {
      guard();
      const streamId = c.metadata.get(STREAM_ID_METADATA_KEY)[0];
      boundFramework(state, req.frameworkId ?? req.frameworkInfo?.id ?? '', principal, typeof streamId === 'string' ? streamId : undefined);
      return fn(req, principal);
    });
  // A call answered with an Ack.
  const call = <Req extends Bound>(fn: (req: Req, principal: Principal) => void | Promise<void>) =>
    answering<Req, Record<string, never>>(async (req, principal) => {
      await fn(req, principal);
      return {};
    });
  return {
    Subscribe: (stream: grpc.ServerWritableStream<SubscribeRequest__Output, Event>) => {
      writeQueuedTogether(stream);
      let ended = false;
      const adapter: FrameworkStream = {
        send: (event) => {
          if (!ended) stream.write(event);
        },
        end: () => {
          if (ended) return;
          ended = true;
          stream.end();
        },
      };
      const start = async (): Promise<void> => {
        const principal = await authenticateCall(auth, stream);
        await admit();
        const framework = await subscribe(state, stream.request, adapter, principal);
        const onGone = (): void => {
          ended = true;
          streamClosed(state, framework, adapter);
        };
        stream.on('cancelled', onGone);
        stream.on('close', onGone);
        stream.on('error', onGone);
        if (stream.cancelled) onGone();
      };
      start().catch((err: unknown) => {
        ended = true;
        stream.emit('error', toGrpcError(err));
      });
    },
    Accept: call((req: Parameters<typeof accept>[1], principal) => accept(state, req, principal)),
    Decline: call((req: Parameters<typeof decline>[1]) => decline(state, req)),
    Revive: call((req: { frameworkId: string; roles: string[] }) => revive(state, req.frameworkId, req.roles)),
    Suppress: call((req: { frameworkId: string; roles: string[] }) => suppress(state, req.frameworkId, req.roles)),
    Kill: call((req: Parameters<typeof kill>[1]) => kill(state, req)),
    Acknowledge: call((req: { frameworkId: string; agentId: string; taskId: string; uuid: string }) => acknowledge(state, req.frameworkId, req.agentId, req.taskId, req.uuid)),
    AcknowledgeBatch: answering((req: AcknowledgeBatchInput) => acknowledgeBatch(state, req)),
    Reconcile: call((req: Parameters<typeof reconcile>[1]) => reconcile(state, req)),
    Message: call((req: { frameworkId: string; agentId: string; executorId: string; data: Buffer }) => frameworkMessage(state, req.frameworkId, req.agentId, req.executorId, req.data)),
    UpdateFramework: call((req: { frameworkInfo: Parameters<typeof updateFramework>[1]; suppressedRoles: string[] }, principal) => updateFramework(state, req.frameworkInfo, req.suppressedRoles, principal)),
    Teardown: call(async (req: { frameworkId: string }) => {
      await removeFramework(state, req.frameworkId, 'teardown requested by the framework');
    }),
  } as SchedulerHandlers;
}

/**
 * grpc-js hands a server stream's messages to HTTP/2 one at a time, each once the previous one's
 * write has completed — a turn of the event loop per message. While the master is busy (a
 * failover: a thousand re-registrations, in time slices) that is a couple of messages per slice,
 * and ten thousand reconciliation answers would wait until it is done. Writing every queued
 * message at once (HTTP/2 then sends them together) keeps them flowing. The stream's `call` is
 * grpc-js's own (pinned in package.json; test/unit/write-queued-together.test.ts holds it to that
 * version); should it not be there, its one-at-a-time writing stays. Only sound while the server
 * has no interceptors: grpc-js's ServerInterceptingCall holds one pending message while metadata
 * is being intercepted, and a second message sent meanwhile would replace the first.
 */
export function writeQueuedTogether(stream: grpc.ServerWritableStream<unknown, unknown>): void {
  type Chunk = { chunk: unknown };
  const writable = stream as unknown as { call?: { sendMessage?: (message: unknown, done: () => void) => void }; _writev?: (chunks: Chunk[], done: () => void) => void };
  const call = writable.call;
  if (typeof call?.sendMessage !== 'function') return;
  writable._writev = (chunks, done) => {
    let left = chunks.length;
    for (const { chunk } of chunks) {
      call.sendMessage?.(chunk, () => {
        left -= 1;
        if (left === 0) done();
      });
    }
  };
}

/** Agents authenticate when the stream opens (a client certificate, or a token) and need agents.register. */
export function agentGatewayHandlers(state: MasterState, { admit }: LeadershipGuard, auth: Authenticator): AgentGatewayHandlers {
  return {
    Connect: (stream: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>) => {
      // While held, the stream's first messages (the agent's hello) are read and decoded already —
      // on a successor, in the quiet seconds before it is elected — and handed over once admitted.
      const early: AgentMessage__Output[] = [];
      let ended = false;
      const keep = (message: AgentMessage__Output): void => void early.push(message);
      const end = (): void => void (ended = true);
      stream.on('data', keep);
      stream.on('end', end);
      stream.on('error', () => undefined); // a held stream the client gives up on
      const lost = stream.metadata.get(LEADER_LOST_HEADER)[0];
      const admitted = async (): Promise<Principal> => {
        const principal = await authenticateCall(auth, stream);
        requirePermission(principal, 'agents.register');
        await admit(typeof lost === 'string' ? lost : undefined);
        return principal;
      };
      admitted().then(
        (principal) => {
          stream.off('data', keep);
          stream.off('end', end);
          if (!stream.cancelled) serveAgent(state, stream, early, ended, principal);
        },
        (err: unknown) => {
          if (!stream.cancelled) stream.emit('error', toGrpcError(err));
        },
      );
    },
  } as AgentGatewayHandlers;
}

function serveAgent(state: MasterState, stream: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>, early: readonly AgentMessage__Output[], ended: boolean, principal: Principal): void {
  let open = true;
  const session = new AgentSession(state, {
    send: (message) => {
      if (open) stream.write(message);
    },
    close: () => {
      if (!open) return;
      open = false;
      stream.end();
    },
  }, principal);
  for (const message of early) session.receive(message);
  stream.on('data', (message: AgentMessage__Output) => session.receive(message));
  const gone = (): void => {
    if (open) {
      open = false;
      try {
        stream.end();
      } catch {
        // already closed
      }
    }
    session.closed();
  };
  stream.on('end', gone);
  stream.on('cancelled', gone);
  stream.on('error', gone);
  if (ended) gone();
}
