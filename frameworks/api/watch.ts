// One Watch subscription over the controllers of several kinds: filtered by kind and name,
// optionally starting with an ADDED event per existing workload. Events that happen while the
// initial list is read are held back and sent after it, so a client never sees a change before
// the object it changes. When this instance stops serving (leadership lost), the watch ends.
import { UnavailableError, toAgoraError, type AgoraError } from '../../core/errors.js';
import type { WatchEvent } from '../../proto/index.js';
import type { WorkloadKind } from '../workload.js';
import type { ControllerRegistry } from './registry.js';

export interface WatchFilter {
  /** Empty = every kind served. */
  readonly kinds: readonly WorkloadKind[];
  /** Empty = every name. */
  readonly names: readonly string[];
  readonly sendInitial: boolean;
}

export interface WatchSink {
  send(event: WatchEvent): void;
  /** The watch is over (err: why). Not called after the caller's own unsubscribe. */
  end(err?: AgoraError): void;
}

/** Start watching; throws (FAILED_PRECONDITION) when a requested kind is not served. */
export function openWatch(registry: ControllerRegistry, filter: WatchFilter, sink: WatchSink, now: () => number = Date.now): () => void {
  const controllers = (filter.kinds.length > 0 ? [...new Set(filter.kinds)] : registry.kinds()).map((k) => registry.get(k));
  const names = new Set(filter.names);
  const wanted = (e: WatchEvent): boolean => names.size === 0 || names.has(e.name ?? '');
  let held: WatchEvent[] | undefined = filter.sendInitial ? [] : undefined;
  let closed = false;
  const deliver = (e: WatchEvent): void => {
    if (closed || !wanted(e)) return;
    if (held) held.push(e);
    else sink.send(e);
  };
  const unsubscribes = controllers.map((c) => c.watch(deliver));
  const stop = (): void => {
    if (closed) return;
    closed = true;
    for (const u of unsubscribes) u();
    offClear();
  };
  const offClear = registry.onClear(() => {
    stop();
    sink.end(new UnavailableError('this frameworks instance stopped serving (leadership lost); watch again'));
  });
  if (filter.sendInitial) {
    void Promise.all(controllers.map((c) => c.list()))
      .then((lists) => {
        if (closed) return;
        for (const object of lists.flat()) {
          const added: WatchEvent = { type: 'ADDED', kind: object.kind ?? 'KIND_UNSPECIFIED', name: object.name ?? '', object, timestampMs: now() };
          if (wanted(added)) sink.send(added);
        }
        const pending = held ?? [];
        held = undefined;
        for (const e of pending) sink.send(e);
      })
      .catch((err: unknown) => {
        stop();
        sink.end(toAgoraError(err));
      });
  }
  return stop;
}
