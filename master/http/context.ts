// What the operator endpoints need from the master process, kept narrow so master/http never
// imports master.ts (the Master class satisfies it).
import type { AclStore } from '../../core/security/acl-store.js';
import type { TlsMaterial } from '../../core/security/tls.js';
import type { MasterState } from '../state.js';

/** Who leads: this master (`self`), and the leader's advertised addresses when known. */
export interface LeaderView {
  readonly self: boolean;
  readonly leader?: { readonly id: string; readonly hostname: string; readonly grpcAddress: string; readonly httpAddress: string; readonly version: string };
}

export interface OperatorContext {
  readonly state: MasterState;
  readonly lifecycle: string;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** Tokens and policies (acl undefined when the master is --insecure); the cluster CA in `tls` (undefined when --insecure). */
  readonly security: { readonly insecure: boolean; readonly acl: AclStore | undefined; readonly tls?: TlsMaterial | undefined };
  leader(): LeaderView;
}
