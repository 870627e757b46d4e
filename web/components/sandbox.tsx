// A task's sandbox, browsed through the master (which forwards to the task's agent): directories
// open in place, files list their size and modification time and download by a plain link (the
// session cookie authenticates a GET; the agent sends it as an attachment).
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { ErrorBox, Loading } from './ui.js';
import { When, useNow } from './when.js';
import { bytes, crumbs, missingRoute, parentPath } from '../pages/cluster-model.js';

interface FileEntry {
  readonly name: string;
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: string;
}

interface Listing {
  readonly path: string;
  readonly files: readonly FileEntry[];
  readonly truncated?: boolean;
}

export function Sandbox({ base, frameworkId }: { base: string; frameworkId: string }) {
  const [path, setPath] = useState('');
  const [listing, setListing] = useState<Listing>();
  const [error, setError] = useState<unknown>();
  const [nonce, setNonce] = useState(0);
  const now = useNow();
  useEffect(() => {
    const abort = new AbortController();
    setError(undefined);
    getJson<Listing>(`${base}/files?${new URLSearchParams({ frameworkId, path }).toString()}`, abort.signal).then(
      (l) => setListing(l),
      (err: unknown) => {
        if (!abort.signal.aborted) setError(err);
      },
    );
    return () => abort.abort();
  }, [base, frameworkId, path, nonce]);
  const download = (p: string): string => `${base}/files/download?${new URLSearchParams({ frameworkId, path: p }).toString()}`;
  return (
    <div data-testid="files">
      <div class="crumbs">
        <button type="button" class="link" onClick={() => setPath('')}>
          sandbox
        </button>
        {crumbs(path).map((c) => (
          <span key={c.path}>
            {' / '}
            <button type="button" class="link" onClick={() => setPath(c.path)}>
              {c.name}
            </button>
          </span>
        ))}
        <button type="button" class="small-button" onClick={() => setNonce((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {missingRoute(error) && !listing ? <p class="muted">The sandbox is not available through this master.</p> : <ErrorBox error={error} />}
      {!listing ? (
        error ? null : <Loading what="the sandbox" />
      ) : (
        <div class="table-wrap">
          <table class="files">
            <thead>
              <tr>
                <th>Name</th>
                <th class="num">Size</th>
                <th>Modified</th>
                <th>Mode</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {path !== '' ? (
                <tr>
                  <td colSpan={5}>
                    <button type="button" class="link" onClick={() => setPath(parentPath(path))}>
                      ↑ ..
                    </button>
                  </td>
                </tr>
              ) : null}
              {listing.files.length === 0 ? (
                <tr>
                  <td colSpan={5} class="muted">
                    Empty.
                  </td>
                </tr>
              ) : null}
              {listing.files.map((f) => (
                <tr key={f.path} data-testid={`file-row-${f.name}`}>
                  <td class="wrap">
                    {f.type === 'directory' ? (
                      <button type="button" class="link" onClick={() => setPath(f.path)}>
                        {f.name}/
                      </button>
                    ) : (
                      <span class="mono">{f.name}</span>
                    )}
                    {f.type === 'symlink' || f.type === 'other' ? <span class="muted small"> ({f.type})</span> : null}
                  </td>
                  <td class="num">{f.type === 'directory' ? '' : bytes(f.size)}</td>
                  <td>
                    <When ms={f.mtimeMs} now={now} />
                  </td>
                  <td class="mono muted">{f.mode}</td>
                  <td>
                    {f.type === 'file' ? (
                      <a href={download(f.path)} download={f.name} data-testid={`download-${f.name}`}>
                        download
                      </a>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {listing.truncated ? <p class="muted small">The directory has more entries than one listing shows.</p> : null}
        </div>
      )}
    </div>
  );
}
