// How an agent's connection (connection.ts) reaches masters: AgentGateway.Connect streams, one
// gRPC channel per master address. A stream's first message may be given already encoded (a
// Buffer): the bytes on the wire are the same, and a caller that keeps its re-registration encoded
// until its tasks change need not encode it again for every master it greets (bench/sim-agent.ts
// does, for a thousand agents on one thread).
import * as grpc from '@grpc/grpc-js';
import { AgentGatewayService, type AgentMessage, type MasterMessage__Output } from '../proto/index.js';

/** An AgentGateway.Connect stream, as the agent sees it. */
export type GatewayCall = grpc.ClientDuplexStream<AgentMessage | Buffer, MasterMessage__Output>;

export interface GatewayTransport {
  /** A new Connect stream to the master at `address` (host:port). */
  open(address: string, metadata: grpc.Metadata): GatewayCall;
  /** Close every channel (streams still open on them are cancelled). */
  close(): void;
}

const CONNECT = AgentGatewayService.Connect;

/** An AgentMessage in its wire form (what a Connect stream sends). */
export function encodeAgentMessage(message: AgentMessage): Buffer {
  return CONNECT.requestSerialize(message);
}

const serialize = (m: AgentMessage | Buffer): Buffer => (Buffer.isBuffer(m) ? m : encodeAgentMessage(m));
const deserialize = (b: Buffer): MasterMessage__Output => CONNECT.responseDeserialize(b) as MasterMessage__Output;

/** One channel per master address, made on first use. */
export class GatewayChannels implements GatewayTransport {
  readonly #clients = new Map<string, grpc.Client>();

  constructor(
    private readonly credentials: grpc.ChannelCredentials,
    private readonly channelOptions: grpc.ChannelOptions = {},
  ) {}

  open(address: string, metadata: grpc.Metadata): GatewayCall {
    let client = this.#clients.get(address);
    if (!client) {
      client = new grpc.Client(address, this.credentials, this.channelOptions);
      this.#clients.set(address, client);
    }
    return client.makeBidiStreamRequest(CONNECT.path, serialize, deserialize, metadata);
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
