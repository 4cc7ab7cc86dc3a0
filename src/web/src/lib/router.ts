import { useEffect, useState } from 'react';

/** Routes of this small app. The panel answers every unknown GET with index.html, so deep links work. */
export type Route =
  | { name: 'servers' }
  | { name: 'backups'; server: string }
  | { name: 'schedules'; server: string }
  | { name: 'login' }
  | { name: 'destinations' }
  | { name: 'backup-limits' }
  | { name: 'not-found'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'servers' };
  if (path === '/login') return { name: 'login' };
  if (path === '/admin/destinations') return { name: 'destinations' };
  if (path === '/admin/backup-limits') return { name: 'backup-limits' };
  const sched = /^\/server\/([^/]+)\/schedules$/.exec(path);
  if (sched) return { name: 'schedules', server: decodeURIComponent(sched[1]!) };
  const m = /^\/server\/([^/]+)(?:\/backups)?$/.exec(path);
  if (m) return { name: 'backups', server: decodeURIComponent(m[1]!) };
  return { name: 'not-found', path };
}

export function navigate(to: string): void {
  if (to === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return route;
}
