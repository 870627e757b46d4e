// Live updates without polling storms: one EventSource on the master's event stream
// (/api/v1/events) and one on the Jobs API's watch (/api/v1/watch), shared by every page and opened
// only while something listens. A page names the topics it shows; an event on one of them reloads
// that page's data — at most one load in flight, and a burst of events costs one more load after it
// (so 1,000 task updates in a second are two loads, not 1,000).
import { useEffect, useRef, useState } from 'preact/hooks';

export type Topic = 'agents' | 'frameworks' | 'tasks' | 'services' | 'cronjobs' | 'jobs' | 'endpoints' | 'deployments';

/** The event's name on its stream → the topic it touches, and the event's data. */
type Listener = (topic: Topic, data: unknown) => void;

const MASTER_EVENTS: Record<string, Topic> = {
  agent_added: 'agents',
  agent_reregistered: 'agents',
  agent_disconnected: 'agents',
  agent_unreachable: 'agents',
  agent_removed: 'agents',
  agent_draining: 'agents',
  agent_drained: 'agents',
  framework_added: 'frameworks',
  framework_resubscribed: 'frameworks',
  framework_disconnected: 'frameworks',
  framework_removed: 'frameworks',
  task_added: 'tasks',
  task_updated: 'tasks',
};
const WATCH_EVENTS = ['added', 'modified', 'deleted', 'endpoints', 'deployment_progress'];
const KIND_TOPIC: Record<string, Topic> = { SERVICE: 'services', CRONJOB: 'cronjobs', JOB: 'jobs' };

interface Source {
  readonly url: string;
  es?: EventSource;
  connected: boolean;
}

const listeners = new Set<Listener>();
const statusListeners = new Set<(connected: boolean) => void>();
const sources: Source[] = [
  { url: '/api/v1/events', connected: false },
  { url: '/api/v1/watch', connected: false },
];

function emit(topic: Topic, data: unknown): void {
  for (const l of [...listeners]) l(topic, data);
}

function open(source: Source): void {
  if (source.es) return;
  const es = new EventSource(source.url, { withCredentials: true });
  source.es = es;
  const setConnected = (c: boolean): void => {
    source.connected = c;
    for (const l of [...statusListeners]) l(connected());
  };
  es.onopen = () => setConnected(true);
  es.onerror = () => setConnected(false);
  if (source.url === '/api/v1/events') {
    for (const [name, topic] of Object.entries(MASTER_EVENTS)) es.addEventListener(name, (e) => emit(topic, parse(e)));
    // The master could not replay what we missed: everything may have changed.
    es.addEventListener('resync', () => {
      for (const t of new Set(Object.values(MASTER_EVENTS))) emit(t, undefined);
    });
  } else {
    for (const name of WATCH_EVENTS) {
      es.addEventListener(name, (e) => {
        const data = parse(e) as { kind?: string } | undefined;
        if (name === 'endpoints') emit('endpoints', data);
        if (name === 'deployment_progress') emit('deployments', data);
        const topic = KIND_TOPIC[String(data?.kind ?? '')];
        if (topic) emit(topic, data);
      });
    }
  }
}

function parse(e: Event): unknown {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as unknown;
  } catch {
    return undefined;
  }
}

function close(): void {
  for (const s of sources) {
    s.es?.close();
    delete s.es;
    s.connected = false;
  }
}

export function connected(): boolean {
  return sources.every((s) => s.connected);
}

/** Listen to topics; the streams open with the first listener and close with the last. */
export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  for (const s of sources) open(s);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) close();
  };
}

/** Whether both streams are open, for the header's indicator. */
export function useConnected(): boolean {
  const [on, setOn] = useState(connected());
  useEffect(() => {
    statusListeners.add(setOn);
    return () => void statusListeners.delete(setOn);
  }, []);
  return on;
}

export interface Live<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  /** Load again now (after an action). */
  reload(): void;
}

export interface LiveOptions {
  /** Also reload this often (ms), for figures no event announces (usage). */
  readonly everyMs?: number;
  /** Reload only for events this accepts (e.g. the task this page shows). */
  readonly filter?: (topic: Topic, data: unknown) => boolean;
}

/**
 * Data that follows the cluster: `load` runs at once, again whenever an event on one of `topics`
 * comes (coalesced: one load in flight, one more after it for whatever came meanwhile), and when
 * `deps` change.
 */
export function useLive<T>(load: (signal: AbortSignal) => Promise<T>, topics: readonly Topic[], deps: readonly unknown[] = [], options: LiveOptions = {}): Live<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const loader = useRef<() => void>(() => {});
  useEffect(() => {
    const abort = new AbortController();
    let running = false;
    let again = false;
    const run = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          try {
            const data = await load(abort.signal);
            if (!abort.signal.aborted) setState({ data, error: undefined, loading: false });
          } catch (err) {
            if (!abort.signal.aborted) setState((s) => ({ data: s.data, error: err as Error, loading: false }));
          }
        } while (again && !abort.signal.aborted);
      } finally {
        running = false;
      }
    };
    loader.current = () => void run();
    setState((s) => ({ ...s, loading: true }));
    void run();
    const unsubscribe = subscribe((topic, data) => {
      if (topics.includes(topic) && (!options.filter || options.filter(topic, data))) void run();
    });
    const timer = options.everyMs ? setInterval(() => void run(), options.everyMs) : undefined;
    return () => {
      abort.abort();
      unsubscribe();
      if (timer) clearInterval(timer);
    };
  }, deps);
  return { ...state, reload: () => loader.current() };
}
