// Digest credentials and node ACLs on node-zookeeper-client, as Mesos uses them: a client with
// credentials authenticates on every connection, and creates its nodes "creator all" (ZooKeeper's
// CREATOR_ALL_ACL, the `auth` scheme: the server grants ALL to the digest id the connection
// authenticated as), plus READ for everyone on what credential-less readers need to see.
//
// ZooKeeper keeps authentication per connection, not per session, so it must be sent again on
// every reconnection and on every new session. The library does resend it, but after whatever
// was queued while the connection was down — so those operations reached the server
// unauthenticated and failed with NO_AUTH (or, where the server enforces authentication, had the
// connection closed on them). The Java client puts authentication first; authenticate() makes
// this library do the same.

import type { StoreCredentials } from './credentials.js';
import type { NodeAcl } from './store.js';
import { zk, type ZkClient, type ZkPacket } from './zookeeper-client.js';

/** The request type of an authentication packet (the library's jute.OP_CODES.AUTH). */
const AUTH_OP = 100;

const WORLD_READABLE_ACL: readonly unknown[] = Object.freeze([...zk.ACL.CREATOR_ALL_ACL, ...zk.ACL.READ_ACL_UNSAFE]);

/** The ACL list for a node created as `acl`; without credentials every node is open, as before. */
export function aclFor(acl: NodeAcl, authenticated: boolean): unknown[] {
  if (!authenticated) return zk.ACL.OPEN_ACL_UNSAFE;
  return acl === 'world-readable' ? [...WORLD_READABLE_ACL] : zk.ACL.CREATOR_ALL_ACL;
}

/** Give a client (before connect()) the credentials, sent first on every connection it makes. */
export function authenticate(client: ZkClient, credentials: StoreCredentials): void {
  client.addAuthInfo('digest', Buffer.from(`${credentials.user}:${credentials.password}`, 'utf8'));
  const manager = client.connectionManager;
  const queueAuth = manager.onSocketConnected;
  // The library binds this method when it opens each socket, so replacing it here takes effect
  // from the first connection on.
  manager.onSocketConnected = function (this: typeof manager) {
    queueAuth.call(this);
    authFirst(this.packetQueue.queue);
  };
}

/** Move authentication packets ahead of the operations that waited for the connection. */
function authFirst(queue: ZkPacket[]): void {
  const isAuth = (p: ZkPacket): boolean => p.request.header?.type === AUTH_OP;
  if (!queue.some(isAuth)) return;
  const ordered = [...queue.filter(isAuth), ...queue.filter((p) => !isAuth(p))];
  queue.splice(0, queue.length, ...ordered);
}
