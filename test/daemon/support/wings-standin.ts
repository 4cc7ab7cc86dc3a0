/**
 * A stand-in for Wings in front of which the sidecar proxy is tested: HTTPS with the node's
 * certificate, Wings' bearer check, a record of every request it gets, and a websocket at
 * `/api/servers/:server/ws` that checks the Origin and answers `auth` the way Wings does.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface WingsStandin {
  url: string;
  port: number;
  /** `METHOD /path` of every request, in order (query strings dropped). */
  calls: string[];
  /** Origins of accepted websocket upgrades. */
  wsOrigins: string[];
  close(): Promise<void>;
}

export async function startWingsStandin(opts: { cert: Buffer; key: Buffer; token: string; panelOrigin: string }): Promise<WingsStandin> {
  const calls: string[] = [];
  const wsOrigins: string[] = [];
  // Power acts after the 202, as Wings does; every server starts out running.
  const states = new Map<string, string>();
  const wss = new WebSocketServer({ noServer: true });
  const json = (res: import('node:http').ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
  };
  const server = https.createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    calls.push(`${req.method} ${path}`);
    req.resume();
    const auth = req.headers.authorization ?? '';
    if (path.startsWith('/api/')) {
      if (!auth.startsWith('Bearer ')) return json(res, 401, { error: 'The required authorization heads were not present in the request.' });
      if (auth.slice(7) !== opts.token) return json(res, 403, { error: 'You are not authorized to access this endpoint.' });
    }
    const m = /^\/api\/servers\/([^/]+)(\/.*)?$/.exec(path);
    if (m && req.method === 'GET' && !m[2]) return json(res, 200, { state: states.get(m[1]!) ?? 'running', is_suspended: false, utilization: {}, configuration: {} });
    if (m && req.method === 'POST' && m[2] === '/power') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const action = (JSON.parse(body || '{}') as { action?: string }).action;
        json(res, 202);
        if (action === 'stop') setTimeout(() => states.set(m[1]!, 'offline'), 100);
        if (action === 'start') setTimeout(() => states.set(m[1]!, 'running'), 100);
      });
      return;
    }
    if (m && req.method === 'POST' && m[2] === '/commands') return json(res, 204);
    if (path === '/api/system') return json(res, 200, { architecture: 'amd64', version: '1.11.11' });
    return json(res, 200, { wings: true, route: `${req.method} ${path}` });
  });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]!;
    calls.push(`WS ${path}`);
    const origin = req.headers.origin ?? '';
    if (!/^\/api\/servers\/[^/]+\/ws$/.test(path) || origin !== opts.panelOrigin) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      wsOrigins.push(origin);
      ws.on('message', (data) => {
        let frame: { event?: string; args?: string[] };
        try {
          frame = JSON.parse(String(data));
        } catch {
          return;
        }
        if (frame.event === 'auth') {
          ws.send(JSON.stringify({ event: 'auth success' }));
          ws.send(JSON.stringify({ event: 'status', args: ['running'] }));
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    calls,
    wsOrigins,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
