/**
 * Wings with a game behind it: Wings' server routes (wings-control.md §1) in front of a stand-in
 * game, over real HTTP on loopback; every call is recorded. (test/daemon/support/wings-standin.ts is
 * the other Wings stand-in: HTTPS and the websocket, for the sidecar proxy tests.) Power answers 202 and acts later, as Wings does; commands
 * answer 204 and the game's answer only shows up in `GET …/logs`; commands to a stopped server get
 * 502. The game prints what Minecraft prints for the save commands.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type State = 'offline' | 'starting' | 'running' | 'stopping';

export interface WingsCall {
  method: string;
  path: string;
  body?: any;
  at: number;
}

export interface WingsWithGameOptions {
  token: string;
  servers: string[];
  /** How long stop/start take after the 202. */
  powerDelayMs?: number;
  /** The game ignores stop (for the stop timeout test). */
  neverStops?: boolean;
  /** The game never prints "Saved the game". */
  neverSaves?: boolean;
  /** Bedrock: `save query` answers "not completed" this many times first. */
  queryNotReady?: number;
  /** How long the game takes to print "Saved the game". */
  saveDelayMs?: number;
}

export interface WingsWithGame {
  url: string;
  calls: WingsCall[];
  states: Map<string, State>;
  logs: Map<string, string[]>;
  /** Console commands received, in order, per server. */
  commands(server: string): string[];
  powerActions(server: string): string[];
  close(): Promise<void>;
}

export async function startWingsWithGame(o: WingsWithGameOptions): Promise<WingsWithGame> {
  const calls: WingsCall[] = [];
  const states = new Map<string, State>(o.servers.map((s) => [s, 'running']));
  const logs = new Map<string, string[]>(o.servers.map((s) => [s, ['[Server thread/INFO]: Done (3.2s)! For help, type "help"']]));
  const queries = new Map<string, number>();
  const delay = o.powerDelayMs ?? 300;
  const print = (server: string, line: string) => {
    const l = logs.get(server)!;
    l.push(`[12:00:00] [Server thread/INFO]: ${line}`);
    while (l.length > 100) l.shift();
  };
  const game = (server: string, command: string) => {
    switch (command) {
      case 'save-off':
        return print(server, 'Automatic saving is now disabled');
      case 'save-on':
        return print(server, 'Automatic saving is now enabled');
      case 'save-all flush':
        print(server, 'Saving the game (this may take a moment!)');
        if (!o.neverSaves) setTimeout(() => print(server, 'Saved the game'), o.saveDelayMs ?? 200);
        return;
      case 'save hold':
        return print(server, 'Saving...');
      case 'save query': {
        const n = (queries.get(server) ?? 0) + 1;
        queries.set(server, n);
        if (n <= (o.queryNotReady ?? 2)) return print(server, 'A previous save has not been completed.');
        print(server, 'Data saved. Files are now ready to be copied.');
        return print(server, 'Bedrock level/db/CURRENT:16, Bedrock level/level.dat:2952');
      }
      case 'save resume':
        return print(server, 'Changes to the world are resumed.');
      default:
        return print(server, `Unknown command: ${command}`);
    }
  };
  const json = (res: http.ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        return json(res, 400, { error: 'invalid json' });
      }
      calls.push({ method: req.method ?? '', path: url.pathname + url.search, at: Date.now(), ...(body === undefined ? {} : { body }) });
      const auth = req.headers.authorization;
      if (!auth || !auth.startsWith('Bearer ')) return json(res, 401, { error: 'The required authorization heads were not present in the request.' });
      if (auth.slice(7) !== o.token) return json(res, 403, { error: 'You are not authorized to access this endpoint.' });
      const m = /^\/api\/servers\/([^/]+)(\/[a-z]+)?$/.exec(url.pathname);
      const uuid = m?.[1] ?? '';
      if (!m || !states.has(uuid)) return json(res, 404, { error: 'The requested resource does not exist on this instance.' });
      const state = states.get(uuid)!;
      const route = `${req.method} ${m[2] ?? ''}`;
      if (route === 'GET ') return json(res, 200, { state, is_suspended: false, utilization: { state }, configuration: {} });
      if (route === 'GET /logs') return json(res, 200, { data: logs.get(uuid)!.slice(-Math.min(100, Number(url.searchParams.get('size')) || 100)) });
      if (route === 'POST /power') {
        const action = body?.action;
        if (!['start', 'stop', 'restart', 'kill'].includes(action)) return json(res, 422, { error: 'invalid action' });
        json(res, 202);
        if (action === 'stop' && state !== 'offline' && !o.neverStops) {
          states.set(uuid, 'stopping');
          setTimeout(() => states.set(uuid, 'offline'), delay);
        }
        if (action === 'start' && state === 'offline') {
          states.set(uuid, 'starting');
          setTimeout(() => states.set(uuid, 'running'), delay);
        }
        return;
      }
      if (route === 'POST /commands') {
        if (state === 'offline') return json(res, 502, { error: 'Cannot send commands to a stopped server instance.' });
        for (const c of body?.commands ?? []) game(uuid, String(c));
        return json(res, 204);
      }
      return json(res, 404, { error: 'The requested resource does not exist on this instance.' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    states,
    logs,
    commands: (s) => calls.filter((c) => c.method === 'POST' && c.path === `/api/servers/${s}/commands`).flatMap((c) => c.body.commands as string[]),
    powerActions: (s) => calls.filter((c) => c.method === 'POST' && c.path === `/api/servers/${s}/power`).map((c) => c.body.action as string),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
