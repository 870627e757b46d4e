// A task's stdout or stderr, followed live: the log's size first, then one streamed request from
// the last 64 KiB (the master forwards it to the task's agent), read chunk by chunk and appended.
// The page keeps the last 1 MiB; leaving the page, switching stream or unticking "follow" aborts
// the request. Unfollowed, it shows the tail once.
import { useEffect, useRef, useState } from 'preact/hooks';
import { request } from '../api.js';
import { ErrorBox } from './ui.js';
import { LOG_TAIL_BYTES, appendCapped, missingRoute, tailOffset } from '../pages/cluster-model.js';

export function LogView({ base, frameworkId, live }: { base: string; frameworkId: string; live: boolean }) {
  const [stream, setStream] = useState<'stdout' | 'stderr'>('stdout');
  const [follow, setFollow] = useState(true);
  const [text, setText] = useState('');
  const [cut, setCut] = useState(false);
  const [status, setStatus] = useState<'loading' | 'following' | 'ended' | 'shown'>('loading');
  const [error, setError] = useState<unknown>();
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const abort = new AbortController();
    setText('');
    setCut(false);
    setError(undefined);
    setStatus(follow && live ? 'following' : 'loading');
    const url = (params: Record<string, string>): string => `${base}/logs?${new URLSearchParams({ frameworkId, stream, ...params }).toString()}`;
    void (async () => {
      try {
        const head = await request('GET', url({ offset: '0', length: '0' }), undefined, abort.signal);
        const size = Number(head.headers.get('x-agora-log-size') ?? 0);
        const offset = tailOffset(size);
        const following = follow && live;
        const res = await request('GET', url(following ? { offset: String(offset), follow: '1' } : { offset: String(offset), length: String(LOG_TAIL_BYTES) }), undefined, abort.signal);
        await readInto(res, abort.signal, offset > 0, (chunk, dropped) => {
          setText((now) => {
            const next = appendCapped(now, chunk);
            if (next.cut || dropped) setCut(true);
            return next.text;
          });
        });
        if (!abort.signal.aborted) setStatus(following ? 'ended' : 'shown');
      } catch (err) {
        if (!abort.signal.aborted) {
          setError(err);
          setStatus('ended');
        }
      }
    })();
    return () => abort.abort();
  }, [base, frameworkId, stream, follow, live]);

  // Keep the view at the bottom while the reader is there; leave it alone once they scroll up.
  useEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);

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
      <pre
        class="log"
        ref={pre}
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {text || (status === 'loading' ? '' : '(empty)')}
      </pre>
    </div>
  );
}

function statusText(status: string, live: boolean): string {
  if (!live) return 'the task has ended';
  return status === 'following' ? 'following…' : status === 'ended' ? 'the log ended' : status === 'shown' ? 'not following' : 'loading…';
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
