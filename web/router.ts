// Hash routes (#/services/web): the master serves one page at `/`, and a link or a reload keeps
// the view. `useRoute()` is the current route; `href()` builds a link with each part encoded.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The path's parts, decoded: #/services/web → ['services', 'web']. */
  readonly parts: readonly string[];
  readonly params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = hash.split('?');
  return { parts: path.split('/').filter((p) => p !== '').map(decodeURIComponent), params: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = (): void => setRoute(currentRoute());
    addEventListener('hashchange', on);
    // The hash may have changed between the first render and this effect (effects run after paint).
    on();
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(parts: readonly string[], params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${s ? `?${s}` : ''}`;
}

export function navigate(parts: readonly string[], params?: Record<string, string | undefined>): void {
  location.hash = href(parts, params);
}
