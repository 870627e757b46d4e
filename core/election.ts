// Leader election on a Store — one recipe, the same on ZooKeeper and on the embedded backend.
//
//   election/member-0000000007   ← lowest: the leader          (data: the candidate's addresses, JSON)
//   election/member-0000000009   ← watches ...07 only
//   election/member-0000000012   ← watches ...09 only          (no herd: one wake-up per departure)
//
// Each candidate creates an ephemeral sequential node; the lowest leads. A candidate watches only
// its predecessor, so when a node goes exactly one candidate re-runs the election. To expose the
// leader's data (standbys redirect to it), a candidate also watches the lowest node unless
// `trackLeader: false`: then every standby wakes once per change of leader — and only then.
// Under store credentials the directory and members are world-readable, so followers (agents,
// SDKs) need none; the rest of the store stays private.
//
// Safety: leadership needs the session. On `suspended` (lost contact) the leader announces `lost`
// at once, before the server could expire its session and let anyone else win. On `reconnected`
// (same session, node intact) it may lead again. On `expired` the node is gone: the candidate
// rejoins at the back with a new node on the store's new session.

import { EventEmitter } from 'node:events';
import { InternalError, isErrorCode, type AgoraError } from './errors.js';
import type { Logger } from './logger.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { follow } from './store/follow.js';
import { bySequence, joinPath, sequenceOf } from './store/paths.js';
import type { SessionEvent, Store, SubscribeOptions, Unsubscribe, Watcher } from './store/store.js';

export type ElectionState = 'idle' | 'candidate' | 'leader' | 'suspended' | 'stopped';

/** Why a leader stopped leading. */
export type LostReason = 'suspended' | 'expired' | 'node-deleted' | 'resigned' | 'closed';

export interface LeaderInfo<T = unknown> {
  /** The leader's member node name (e.g. member-0000000007). */
  readonly id: string;
  readonly data: T;
  /** The leader's store session. */
  readonly sessionId: string | undefined;
}

export interface ElectionOptions<T> {
  readonly store: Store;
  /** The election directory, e.g. /agora/<cluster>/master/election (created if missing). */
  readonly path: string;
  /** What this candidate advertises (addresses); stored as JSON in its member node. */
  readonly data: T;
  /** Member node name prefix. Default 'member-'. */
  readonly prefix?: string;
  /** Also watch the leader's node to keep `leader` current. Default true. */
  readonly trackLeader?: boolean;
  /**
   * How long a leader keeps leading while its session is suspended (contact lost, session maybe
   * alive), waiting to reconnect — e.g. to another server of the ensemble. Default 0: lose at once.
   * Only safe when the leader also stops acting once its store contact is older than a lease
   * shorter than the session timeout (Store.contactAgeMs), as the master does.
   */
  readonly suspendedGraceMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface ElectionEvents<T> {
  /** This candidate leads now: start acting. */
  elected: [];
  /** This candidate no longer leads: stop acting NOW. */
  lost: [reason: LostReason];
  /** The leader this candidate knows of changed (undefined once it stops: none known). */
  leaderChanged: [leader: LeaderInfo<T> | undefined];
  stateChanged: [to: ElectionState, from: ElectionState];
  /** A store error the election will retry after a pause. Only emitted if someone listens. */
  error: [err: unknown];
}

const TRANSITIONS: Readonly<Record<ElectionState, readonly ElectionState[]>> = {
  idle: ['candidate', 'stopped'],
  candidate: ['leader', 'suspended', 'stopped'],
  leader: ['candidate', 'suspended', 'stopped'],
  suspended: ['candidate', 'stopped'],
  stopped: [],
};

const RETRY_AFTER_ERROR_MS = 1_000;

export class LeaderElection<T = unknown> extends EventEmitter<ElectionEvents<T>> {
  private current: ElectionState = 'idle';
  private member: string | undefined;
  private leaderInfo: LeaderInfo<T> | undefined;
  /** This candidate's place in line at the last round (0 leads, 1 is next), or undefined. */
  private place: number | undefined;
  private running = false;
  private dirty = false;
  /** recheck() callers, answered when the rounds running now are done. */
  private rechecks: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private readonly prefix: string;
  private readonly payload: Buffer;
  /** The one watch function: fires when the predecessor (or the leader) node changes. */
  private readonly wake: Watcher = () => this.kick();

  constructor(private readonly options: ElectionOptions<T>) {
    super();
    this.prefix = options.prefix ?? 'member-';
    this.payload = Buffer.from(JSON.stringify(options.data), 'utf8');
  }

  get state(): ElectionState {
    return this.current;
  }

  get isLeader(): boolean {
    return this.current === 'leader';
  }

  /** The current leader as this candidate knows it (itself when leading). */
  get leader(): LeaderInfo<T> | undefined {
    return this.leaderInfo;
  }

  /**
   * This candidate's place in line as of the last round: 0 leads, 1 is next (the successor, which
   * takes over when the leader's node goes), undefined when not in the election. Kept current by
   * the leader watch: with `trackLeader: false` a candidate further back learns of a move only when
   * its predecessor goes.
   */
  get position(): number | undefined {
    return this.member !== undefined && (this.current === 'candidate' || this.current === 'leader') ? this.place : undefined;
  }

  /** This candidate's member node path, once created. */
  get memberPath(): string | undefined {
    return this.member === undefined ? undefined : joinPath(this.options.path, this.member);
  }

  /** Join the election; resolves once the member node exists and the first round has run. */
  async start(): Promise<void> {
    this.transition('candidate');
    this.unsubscribe = this.options.store.onSession((e) => this.onSession(e));
    this.dirty = true;
    await this.loop();
  }

  /** Leave: announce `lost` if leading, then delete the member node. Idempotent. */
  async resign(): Promise<void> {
    if (this.current === 'stopped') return;
    const wasLeader = this.current === 'leader';
    this.transition('stopped');
    if (wasLeader) this.emit('lost', 'resigned');
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.forgetLeader();
    await this.deleteMember();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }

  /**
   * Look at the members now rather than at the next watch; resolves once a round has run, so
   * `state` and `leader` are current. For a hint from outside: an agent that already sees this
   * candidate as the leader need not wait for this session's own watch to fire.
   */
  recheck(): Promise<void> {
    if (this.current === 'stopped' || this.current === 'idle') return Promise.resolve();
    return new Promise((resolve) => {
      this.rechecks.push(resolve);
      this.kick();
    });
  }

  // ---- session ----

  private onSession(event: SessionEvent): void {
    switch (event) {
      case 'suspended':
        if (this.current === 'leader') this.suspendLeader();
        else if (this.current === 'candidate') this.transition('suspended');
        return;
      case 'reconnected':
        this.clearGrace();
        if (this.current === 'suspended') this.transition('candidate');
        this.kick();
        return;
      case 'expired':
        this.clearGrace();
        this.member = undefined; // gone with the session
        if (this.current === 'leader') this.lose('expired', 'candidate');
        else if (this.current === 'suspended') this.transition('candidate');
        this.kick();
        return;
      case 'closed':
        if (this.current === 'leader') this.lose('closed', 'stopped');
        else if (this.current !== 'stopped') this.transition('stopped');
        this.unsubscribe?.();
        this.forgetLeader();
        return;
      case 'connected':
        this.kick();
        return;
    }
  }

  private graceTimer: TimerHandle | undefined;

  /** A leader lost contact: lose at once, or after the grace period unless contact comes back. */
  private suspendLeader(): void {
    const grace = this.options.suspendedGraceMs ?? 0;
    if (grace <= 0) {
      this.lose('suspended', 'suspended');
      return;
    }
    const clock = this.options.clock ?? systemClock;
    this.clearGrace();
    this.options.logger?.warn({ graceMs: grace, path: this.options.path }, 'leader lost contact with the store; waiting to reconnect');
    this.graceTimer = clock.setTimeout(() => {
      this.graceTimer = undefined;
      if (this.current === 'leader' && this.options.store.state !== 'connected') this.lose('suspended', 'suspended');
    }, grace);
  }

  private clearGrace(): void {
    (this.options.clock ?? systemClock).clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /** Read the state afresh (after an await, TypeScript's narrowing of `current` is stale). */
  private inState(...states: ElectionState[]): boolean {
    return states.includes(this.current);
  }

  private lose(reason: LostReason, next: ElectionState): void {
    this.transition(next);
    this.emit('lost', reason);
  }

  private transition(to: ElectionState): void {
    const from = this.current;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) throw new InternalError(`election: illegal transition ${from} → ${to}`);
    this.current = to;
    this.options.logger?.info({ from, to, path: this.options.path, member: this.member }, 'election state changed');
    this.emit('stateChanged', to, from);
  }

  // ---- the election round ----

  private kick(): void {
    if (this.current === 'stopped' || this.current === 'idle') return;
    this.dirty = true;
    if (!this.running) void this.loop();
  }

  /** Runs rounds until nothing changed meanwhile; one at a time. */
  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty && this.current !== 'stopped') {
        this.dirty = false;
        try {
          await this.round();
        } catch (err) {
          this.onRoundError(err);
        }
      }
    } finally {
      this.running = false;
      for (const resolve of this.rechecks.splice(0)) resolve();
    }
  }

  private onRoundError(err: unknown): void {
    const code = codeOf(err);
    if (this.current === 'stopped' || this.options.store.state === 'closed') return;
    if (code === 'AGORA_SESSION_EXPIRED' || code === 'AGORA_NO_NODE') {
      this.dirty = true; // the session event (or a plain re-read) sorts it out
      return;
    }
    this.options.logger?.warn({ err, path: this.options.path }, 'election round failed; retrying');
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.retryTimer = setTimeout(() => this.kick(), RETRY_AFTER_ERROR_MS);
    this.retryTimer.unref();
  }

  private async round(): Promise<void> {
    const { store, path } = this.options;
    if (this.current === 'suspended') return; // wait for `reconnected` or `expired`
    if (this.member === undefined) await this.join();
    if (this.current === 'stopped' || this.member === undefined) return;

    const members = await this.members();
    const me = members.indexOf(this.member);
    this.place = me === -1 ? undefined : me;
    if (me === -1) {
      // Our node was deleted under us (by an operator, or with an expired session): rejoin.
      this.member = undefined;
      if (this.current === 'leader') this.lose('node-deleted', 'candidate');
      this.dirty = true;
      return;
    }
    const lowest = members[0] as string;
    await this.updateLeader(lowest);
    if (this.inState('stopped', 'suspended')) return; // changed while we read
    if (me === 0) {
      if (this.current === 'candidate') {
        this.transition('leader');
        this.emit('elected');
      }
      return;
    }
    if (this.current === 'leader') this.lose('node-deleted', 'candidate'); // cannot happen: sequences only grow
    const predecessor = members[me - 1] as string;
    if (!(await store.exists(joinPath(path, predecessor), { watch: this.wake }))) this.dirty = true;
    if (this.options.trackLeader !== false && predecessor !== lowest) {
      if (!(await store.exists(joinPath(path, lowest), { watch: this.wake }))) this.dirty = true;
    }
  }

  /** Member names in election order. */
  private async members(): Promise<string[]> {
    const children = await this.options.store.getChildren(this.options.path);
    return inLine(children, this.prefix);
  }

  private async join(): Promise<void> {
    const { path } = this.options;
    let created: string;
    try {
      created = await this.createMember();
    } catch (err) {
      // Lost contact mid-create: the node may exist without our knowing its name.
      if (codeOf(err) !== 'AGORA_UNAVAILABLE') throw err;
      const adopted = await this.findOwnMember();
      if (adopted === undefined) throw err;
      created = joinPath(path, adopted);
    }
    this.member = created.slice(created.lastIndexOf('/') + 1);
    this.options.logger?.info({ member: this.member, path }, 'election joined');
    if (this.current === 'stopped') await this.deleteMember();
  }

  /**
   * The directory and the member nodes are world-readable (the rest of the store is private to
   * holders of its credentials): agents and SDKs find the leader without credentials. Only the
   * candidates, who hold them, can join or remove members.
   */
  private async createMember(): Promise<string> {
    const { store, path } = this.options;
    const create = (): Promise<string> => store.create(joinPath(path, this.prefix), this.payload, { mode: 'ephemeral-sequential', acl: 'world-readable' });
    try {
      return await create();
    } catch (err) {
      if (codeOf(err) !== 'AGORA_NO_NODE') throw err;
      await store.mkdirp(path, { acl: 'world-readable' });
      return create();
    }
  }

  /** A member node our session owns (keep the lowest, delete any others). */
  private async findOwnMember(): Promise<string | undefined> {
    const { store, path } = this.options;
    const mine: string[] = [];
    for (const name of await this.members()) {
      const stat = await store.exists(joinPath(path, name));
      if (stat?.ephemeralOwner === store.sessionId) mine.push(name);
    }
    for (const extra of mine.slice(1)) await store.delete(joinPath(path, extra)).catch(() => undefined);
    return mine[0];
  }

  private async updateLeader(lowest: string): Promise<void> {
    if (this.leaderInfo?.id === lowest) return;
    let info: LeaderInfo<T>;
    if (lowest === this.member) {
      info = { id: lowest, data: this.options.data, sessionId: this.options.store.sessionId };
    } else {
      const node = await this.options.store.get(joinPath(this.options.path, lowest));
      info = { id: lowest, data: parseMember<T>(node.data), sessionId: node.stat.ephemeralOwner };
    }
    if (this.current === 'stopped') return;
    this.leaderInfo = info;
    this.emit('leaderChanged', info);
  }

  /** A stopped candidate knows no leader. */
  private forgetLeader(): void {
    if (this.leaderInfo === undefined) return;
    this.leaderInfo = undefined;
    this.emit('leaderChanged', undefined);
  }

  private async deleteMember(): Promise<void> {
    const memberPath = this.memberPath;
    this.member = undefined;
    if (memberPath === undefined || this.options.store.state === 'closed') return;
    try {
      await this.options.store.delete(memberPath);
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'AGORA_NO_NODE' && code !== 'AGORA_SESSION_EXPIRED') throw err;
    }
  }
}

/** Create a candidate and join the election. */
export async function joinElection<T>(options: ElectionOptions<T>, listeners: Partial<{ [K in keyof ElectionEvents<T>]: (...args: ElectionEvents<T>[K]) => void }> = {}): Promise<LeaderElection<T>> {
  const election = new LeaderElection<T>(options);
  for (const [event, listener] of Object.entries(listeners)) {
    if (listener) election.on(event as keyof ElectionEvents<T>, listener as (...args: unknown[]) => void);
  }
  await election.start();
  return election;
}

// ---- followers: find the leader without running for election ----

/** The current leader of the election at `path` (the lowest member), or undefined if none. */
export async function readLeader<T = unknown>(store: Store, path: string, prefix = 'member-'): Promise<LeaderInfo<T> | undefined> {
  return readLeaderOnce<T>(store, path, prefix, undefined);
}

/**
 * Follow the leader of the election at `path`: `listener` gets the current leader (undefined when
 * there is none) at once and after every change. Watches only the leader's node (or, while there is
 * no member, the election directory), so followers wake only when the leader changes.
 */
export function watchLeader<T = unknown>(
  store: Store,
  path: string,
  listener: (leader: LeaderInfo<T> | undefined) => void,
  options: SubscribeOptions & { prefix?: string } = {},
): Unsubscribe {
  const prefix = options.prefix ?? 'member-';
  return follow(
    store,
    (watch) => readLeaderOnce<T>(store, path, prefix, watch),
    (leader) => (leader ? `${leader.id}:${JSON.stringify(leader.data)}` : 'none'),
    listener,
    options,
  );
}

/**
 * The candidate next in line after the leader (the second member) of the election at `path`, or
 * undefined when there is none: the master that takes over should the leader go.
 */
export async function readSuccessor<T = unknown>(store: Store, path: string, prefix = 'member-'): Promise<LeaderInfo<T> | undefined> {
  for (;;) {
    let children: string[];
    try {
      children = await store.getChildren(path);
    } catch (err) {
      if (codeOf(err) === 'AGORA_NO_NODE') return undefined;
      throw err;
    }
    const second = inLine(children, prefix)[1];
    if (second === undefined) return undefined;
    try {
      const node = await store.get(joinPath(path, second));
      return { id: second, data: parseMember<T>(node.data), sessionId: node.stat.ephemeralOwner };
    } catch (err) {
      if (codeOf(err) !== 'AGORA_NO_NODE') throw err; // it left meanwhile: look again
    }
  }
}

async function readLeaderOnce<T>(store: Store, path: string, prefix: string, watch: Watcher | undefined): Promise<LeaderInfo<T> | undefined> {
  for (;;) {
    let children: string[];
    try {
      children = await store.getChildren(path);
    } catch (err) {
      if (codeOf(err) !== 'AGORA_NO_NODE') throw err;
      if (await store.exists(path, watch ? { watch } : {})) continue; // created meanwhile
      return undefined;
    }
    const members = inLine(children, prefix);
    const lowest = members[0];
    if (lowest === undefined) {
      // Nobody yet: watch the directory for the first member.
      const again = await store.getChildren(path, watch ? { watch } : {});
      if (inLine(again, prefix).length > 0) continue;
      return undefined;
    }
    try {
      const node = await store.get(joinPath(path, lowest), watch ? { watch } : {});
      return { id: lowest, data: parseMember<T>(node.data), sessionId: node.stat.ephemeralOwner };
    } catch (err) {
      if (codeOf(err) !== 'AGORA_NO_NODE') throw err; // it left meanwhile: look again
    }
  }
}

/** The election's member nodes among `children`, in election order (the leader first). */
function inLine(children: readonly string[], prefix: string): string[] {
  return children.filter((c) => c.startsWith(prefix) && sequenceOf(c) !== undefined).sort(bySequence);
}

function parseMember<T>(data: Buffer): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    return data.toString('utf8') as T; // a member written by something else: hand over the text
  }
}

function codeOf(err: unknown): AgoraError['code'] | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return isErrorCode(code) ? code : undefined;
}
