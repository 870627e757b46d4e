// What the operator endpoints need from the master process, kept narrow so master/http never
// imports master.ts (the Master class satisfies it).
import type { MasterState } from '../state.js';

export interface OperatorContext {
  readonly state: MasterState;
  readonly lifecycle: string;
  readonly grpcAddress: string;
  readonly httpAddress: string;
}
