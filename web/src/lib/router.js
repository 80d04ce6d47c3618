// Hash routing (#/path?query): the current route as a hook, links and navigation.
import { useEffect, useState } from 'preact/hooks';

/** Parses location.hash into {path, parts, query}; parts are URI-decoded path segments. */
export function parseHash(hash) {
  let h = (hash || '').replace(/^#/, '');
  if (!h.startsWith('/')) h = `/${h}`;
  const qi = h.indexOf('?');
  const path = qi >= 0 ? h.slice(0, qi) : h;
  const query = Object.fromEntries(new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : ''));
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { path, parts, query };
}

/** "#/a/b?x=1" from segments (escaped) and a query object (empty values left out). */
export function href(parts, query) {
  const path = `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function navigate(parts, query) {
  const target = href(parts, query);
  if (window.location.hash !== target) window.location.hash = target;
}

/** The current route; re-renders on every hash change. */
export function useRoute() {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
