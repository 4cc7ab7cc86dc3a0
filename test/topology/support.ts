/**
 * The shipped deploy/nginx/backwing-panels.conf, rendered for the topology test with only its
 * marked values replaced. Each replacement must match exactly once, so a change to the shipped
 * file that the test no longer covers fails here instead of passing untested.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHIPPED_PANELS_CONF = fileURLToPath(new URL('../../deploy/nginx/backwing-panels.conf', import.meta.url));

export function renderPanelsConf(values: { panels: string[]; listen: string; cert: string; key: string }): string {
  let text = readFileSync(SHIPPED_PANELS_CONF, 'utf8');
  const swap = (from: string, to: string) => {
    const n = text.split(from).length - 1;
    if (n !== 1) throw new Error(`shipped nginx config: expected "${from}" once, found ${n} times`);
    text = text.replace(from, to);
  };
  if (values.panels.length !== 2) throw new Error('the shipped config names two panels');
  swap('server 127.0.0.1:8000 ', `server ${values.panels[0]} `);
  swap('server 127.0.0.1:8001 ', `server ${values.panels[1]} `);
  swap('listen 443 ssl;', `listen ${values.listen} ssl;`);
  swap('/etc/letsencrypt/live/panel.example.com/fullchain.pem', values.cert);
  swap('/etc/letsencrypt/live/panel.example.com/privkey.pem', values.key);
  return text;
}
