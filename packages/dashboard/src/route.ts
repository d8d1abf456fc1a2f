import { useEffect, useState } from 'react';

/** Hash routes (`#/runs/<id>?a=b`): no server-side routing needed, and any path prefix keeps working. */
export interface Route {
  path: string[];
  params: URLSearchParams;
}

export const parse = (): Route => {
  const hash = location.hash.replace(/^#\/?/, '');
  const [pathPart = '', query = ''] = hash.split('?');
  return {
    path: pathPart.split('/').filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(query),
  };
};

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const update = () => setRoute(parse());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export const href = (path: string[], params?: Record<string, string | undefined>): string => {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) if (value) query.set(key, value);
  const q = query.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
};

export const navigate = (path: string[], params?: Record<string, string | undefined>): void => {
  location.hash = href(path, params);
};
