// A real Store with a fault switch: its writes (create, set, delete, multi) under chosen paths fail
// as a lost connection would (AGORA_UNAVAILABLE, outcome unknown), while reads and every other
// path go on as normal. The store itself is the subject of the contract tests; this is for the
// code that must leave everything as it was when a write it depends on fails.
//
//   const store = withWriteFaults(await openStore('memory:', { chroot: '/agora' }));
//   store.faults.failUnder('/default/registry/frameworks/');
//   … the call is refused, nothing changed …
//   store.faults.heal();
import { connectionLoss } from '../../core/store/store-errors.js';
import type { Op, Store } from '../../core/store/index.js';

export interface WriteFaults {
  /** Fail every later write whose path starts with `prefix` (chroot-relative). */
  failUnder(prefix: string): void;
  /** Writes succeed again. */
  heal(): void;
  /** Writes refused so far (so a test can tell the fault was hit). */
  readonly refused: number;
}

const WRITES = new Set(['create', 'createJson', 'set', 'setJson', 'delete', 'deleteRecursive', 'mkdirp']);

export function withWriteFaults(store: Store): Store & { readonly faults: WriteFaults } {
  const prefixes = new Set<string>();
  let refused = 0;
  const failing = (path: string): boolean => [...prefixes].some((p) => path.startsWith(p));
  const refuse = (path: string): Promise<never> => {
    refused += 1;
    return Promise.reject(connectionLoss(path));
  };
  const faults: WriteFaults = {
    failUnder: (prefix) => void prefixes.add(prefix),
    heal: () => prefixes.clear(),
    get refused() {
      return refused;
    },
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'faults') return faults;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (prop === 'multi') {
        return (ops: readonly Op[]) => {
          const bad = ops.find((op) => op.op !== 'check' && failing(op.path));
          return bad ? refuse(bad.path) : method(ops);
        };
      }
      if (typeof prop === 'string' && WRITES.has(prop)) {
        return (path: string, ...rest: unknown[]) => (failing(path) ? refuse(path) : method(path, ...rest));
      }
      return method;
    },
  }) as Store & { readonly faults: WriteFaults };
}
