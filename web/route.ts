// The hash routes' text (#/services/web?x=1 ↔ parts and parameters), apart from the hooks in
// router.ts so that it can be tested without a page.

export interface Route {
  /** The path's parts, decoded: #/services/web → ['services', 'web']. */
  readonly parts: readonly string[];
  readonly params: URLSearchParams;
}

/**
 * A hash as a route. A part that is not valid percent-encoding (a hand-edited or cut-off link) is
 * kept as written, so the page says there is no such thing instead of the app failing to render.
 */
export function parseRoute(hash: string): Route {
  const [path = '', q = ''] = hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter((p) => p !== '').map(decodePart), params: new URLSearchParams(q) };
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function href(parts: readonly string[], params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${s ? `?${s}` : ''}`;
}
