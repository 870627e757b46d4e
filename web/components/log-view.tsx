// A task's stdout or stderr, followed live: the log's size first, then one streamed request from
// the last 64 KiB (the master forwards it to the task's agent), read chunk by chunk. Leaving the
// page, switching stream or unticking "follow" aborts the request; unfollowed, it shows the tail
// once.
//
// A chatty task writes faster than a page can re-render a megabyte of text, so the text is not
// component state: what arrives is gathered and appended as one block of whole lines every
// FLUSH_MS, and the oldest blocks are removed once the page holds more than 1 MiB (LogTail) — what
// is on screen is never rewritten.
import { useEffect, useRef, useState } from 'preact/hooks';
import { request } from '../api.js';
import { ErrorBox } from './ui.js';
import { LOG_TAIL_BYTES, LogTail, missingRoute, tailOffset } from '../pages/cluster-model.js';

const FLUSH_MS = 150;

type Status = 'loading' | 'following' | 'ended' | 'shown';

export function LogView({ base, frameworkId, live }: { base: string; frameworkId: string; live: boolean }) {
  const [stream, setStream] = useState<'stdout' | 'stderr'>('stdout');
  const [follow, setFollow] = useState(true);
  const [cut, setCut] = useState(false);
  const [empty, setEmpty] = useState(true);
  const [status, setStatus] = useState<Status>('loading');
  const [error, setError] = useState<unknown>();
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const el = pre.current;
    if (!el) return;
    const abort = new AbortController();
    const following = follow && live;
    const sink = textSink(el, () => stick.current, (state) => {
      setCut(state.cut);
      setEmpty(state.empty);
    });
    setError(undefined);
    setStatus(following ? 'following' : 'loading');
    const url = (params: Record<string, string>): string => `${base}/logs?${new URLSearchParams({ frameworkId, stream, ...params }).toString()}`;
    void (async () => {
      try {
        const head = await request('GET', url({ offset: '0', length: '0' }), undefined, abort.signal);
        const offset = tailOffset(Number(head.headers.get('x-agora-log-size') ?? 0));
        const res = await request('GET', url(following ? { offset: String(offset), follow: '1' } : { offset: String(offset), length: String(LOG_TAIL_BYTES) }), undefined, abort.signal);
        await readInto(res, abort.signal, offset > 0, sink.add);
        if (!abort.signal.aborted) setStatus(following ? 'ended' : 'shown');
      } catch (err) {
        if (!abort.signal.aborted) {
          setError(err);
          setStatus('ended');
        }
      } finally {
        sink.flush();
      }
    })();
    return () => {
      abort.abort();
      sink.close();
    };
  }, [base, frameworkId, stream, follow, live]);

  return (
    <div class="logview">
      <div class="log-bar">
        <div class="tabs" role="tablist">
          {(['stdout', 'stderr'] as const).map((s) => (
            <button key={s} type="button" role="tab" aria-selected={stream === s} class={stream === s ? 'current' : ''} data-testid={`stream-${s}`} onClick={() => setStream(s)}>
              {s}
            </button>
          ))}
        </div>
        <label class="inline">
          <input type="checkbox" data-testid="follow" checked={follow && live} disabled={!live} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> follow
        </label>
        <span class="muted small">{statusText(status, live)}</span>
        <a class="small" href={`${base}/files/download?${new URLSearchParams({ frameworkId, path: stream }).toString()}`} download>
          download {stream}
        </a>
      </div>
      {missingRoute(error) ? <p class="muted">Logs are not available through this master.</p> : <ErrorBox error={error} />}
      {cut ? <p class="muted small">Earlier output is not shown (the page keeps the last 1 MiB; the whole log can be downloaded).</p> : null}
      {/* Its text is appended by textSink, outside Preact's children (it has none). */}
      <pre
        class={`log${empty && status !== 'loading' && status !== 'following' ? ' empty' : ''}`}
        ref={pre}
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      />
    </div>
  );
}

function statusText(status: Status, live: boolean): string {
  if (!live) return 'the task has ended';
  return status === 'following' ? 'following…' : status === 'ended' ? 'the log ended' : status === 'shown' ? 'not following' : 'loading…';
}

/**
 * Appends text to `el` in batches of whole lines, each its own block (so the browser lays out only
 * the new lines, not the megabyte above them), keeping the last 1 MiB; scrolls to the end while
 * `sticky()`. A line without its newline yet waits one batch, then shows as it is.
 */
function textSink(el: HTMLElement, sticky: () => boolean, changed: (state: { cut: boolean; empty: boolean }) => void) {
  el.textContent = '';
  const tail = new LogTail();
  let pending = '';
  let partial = false;
  let waited = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (all: boolean): void => {
    timer = undefined;
    const end = all || waited ? pending.length : pending.lastIndexOf('\n') + 1;
    if (end === 0) {
      // Only part of a line: show it next time if no newline comes.
      waited = pending !== '';
      if (waited) timer = setTimeout(() => flush(false), FLUSH_MS);
      return;
    }
    waited = false;
    const { kept, drop } = tail.push(pending.slice(0, end));
    pending = pending.slice(end);
    for (let i = 0; i < drop; i++) el.firstChild?.remove();
    const block = document.createElement('span');
    block.className = 'log-lines';
    block.textContent = kept;
    el.append(block);
    if (sticky()) el.scrollTop = el.scrollHeight;
    changed({ cut: tail.cut || partial, empty: tail.length === 0 });
    if (pending !== '') timer = setTimeout(() => flush(false), FLUSH_MS);
  };
  return {
    add(chunk: string, dropped: boolean): void {
      if (dropped) partial = true;
      pending += chunk;
      timer ??= setTimeout(() => flush(false), FLUSH_MS);
    },
    flush(): void {
      if (timer) clearTimeout(timer);
      flush(true);
    },
    close(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = '';
    },
  };
}

/**
 * Read a text body as it streams, calling `append` per decoded chunk. A tail that starts mid-file
 * drops the partial first line (`skipPartial`), and says so.
 */
async function readInto(res: Response, signal: AbortSignal, skipPartial: boolean, append: (chunk: string, dropped: boolean) => void): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) {
    append(await res.text(), skipPartial);
    return;
  }
  const decoder = new TextDecoder();
  let skipping = skipPartial;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      let chunk = decoder.decode(value, { stream: true });
      if (skipping) {
        const nl = chunk.indexOf('\n');
        if (nl === -1) continue;
        chunk = chunk.slice(nl + 1);
        skipping = false;
        append(chunk, true);
        continue;
      }
      if (chunk) append(chunk, false);
    }
  } finally {
    reader.releaseLock();
  }
}
