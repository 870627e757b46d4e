// Re-arming watches built on the one-shot ones: read with a watch, and when it fires, read again
// (with a new watch). Reads are coalesced — one in flight at a time, and events that arrive meanwhile
// cause a single re-read — so a burst of changes is seen as its latest state. Identical states
// (same node version, same child list) are not reported twice.

import { isStoreCode } from './store-errors.js';
import type { NodeData, Store, SubscribeOptions, Unsubscribe, Watcher } from './store.js';

const RETRY_AFTER_ERROR_MS = 1_000;

export function follow<T>(
  store: Store,
  read: (watcher: Watcher) => Promise<T>,
  keyOf: (value: T) => string,
  listener: (value: T) => void,
  options: SubscribeOptions,
): Unsubscribe {
  let stopped = false;
  let running = false;
  let dirty = false;
  let lastKey: string | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const watcher: Watcher = () => kick();
  const kick = (): void => {
    if (stopped) return;
    dirty = true;
    if (!running) void loop();
  };

  const loop = async (): Promise<void> => {
    running = true;
    while (dirty && !stopped) {
      dirty = false;
      try {
        const value = await read(watcher);
        if (stopped) break;
        const key = keyOf(value);
        if (key !== lastKey) {
          lastKey = key;
          listener(value);
        }
      } catch (err) {
        if (stopped || store.state === 'closed') {
          stopped = true;
          break;
        }
        // The session expired under the read: read again on the new session.
        if (isStoreCode(err, 'AGORA_SESSION_EXPIRED')) {
          dirty = true;
          continue;
        }
        options.onError?.(err);
        retryTimer = setTimeout(kick, RETRY_AFTER_ERROR_MS);
        retryTimer.unref?.();
      }
    }
    running = false;
  };

  kick();
  return () => {
    stopped = true;
    if (retryTimer) clearTimeout(retryTimer);
  };
}

export function followData(
  store: Store,
  path: string,
  listener: (node: NodeData | undefined) => void,
  options: SubscribeOptions,
): Unsubscribe {
  const read = async (watch: Watcher): Promise<NodeData | undefined> => {
    for (;;) {
      try {
        return await store.get(path, { watch });
      } catch (err) {
        if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
      }
      // Gone: wait for it to be created (or, if it just was, read it).
      if (!(await store.exists(path, { watch }))) return undefined;
    }
  };
  const keyOf = (node: NodeData | undefined): string =>
    node ? `${node.stat.ctime}:${node.stat.mtime}:${node.stat.version}` : 'absent';
  return follow(store, read, keyOf, listener, options);
}

export function followChildren(
  store: Store,
  path: string,
  listener: (children: string[] | undefined) => void,
  options: SubscribeOptions,
): Unsubscribe {
  const read = async (watch: Watcher): Promise<string[] | undefined> => {
    for (;;) {
      try {
        return await store.getChildren(path, { watch });
      } catch (err) {
        if (!isStoreCode(err, 'AGORA_NO_NODE')) throw err;
      }
      if (!(await store.exists(path, { watch }))) return undefined;
    }
  };
  const keyOf = (children: string[] | undefined): string => (children ? `[${children.join('/')}]` : 'absent');
  return follow(store, read, keyOf, listener, options);
}
