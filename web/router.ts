// Hash routes (#/services/web): the master serves one page at `/`, and a link or a reload keeps
// the view. `useRoute()` is the current route; `href()` builds a link with each part encoded.
import { useEffect, useState } from 'preact/hooks';
import { href, parseRoute, type Route } from './route.js';

export { href, type Route };

export function currentRoute(): Route {
  return parseRoute(location.hash);
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

export function navigate(parts: readonly string[], params?: Record<string, string | undefined>): void {
  location.hash = href(parts, params);
}
