/**
 * `GET /api/servers/:server/ws` — Wings-style websocket. No bearer header (browsers cannot send
 * one): the first frame authenticates with a panel-signed JWT for this server. Re-sending `auth`
 * with a fresh token before expiry keeps the socket alive, as with Wings.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { WS_EVENTS, encodeFrame, type WsFrame } from '../../wire/ws-events.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import type { DaemonHttpDeps } from './deps.ts';

const AUTH_TIMEOUT_MS = 30_000;
const RATE_WINDOW_MS = 10_000;
const RATE_MAX_FRAMES = 100;

const MAX_TIMER_MS = 2_147_483_647;

/** A frame as `{event: string, args: unknown[]}`, or null for anything else. */
export function parseFrame(text: string): { event: string; args: unknown[] } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { event, args } = value as Partial<WsFrame>;
  if (typeof event !== 'string') return null;
  return { event, args: Array.isArray(args) ? args : [] };
}

export function originAllowed(origin: string | undefined, remote: string, allowed: readonly string[]): boolean {
  // Non-browser clients send no Origin; the JWT is what protects the socket.
  if (!origin) return true;
  if (allowed.includes('*')) return true;
  let panelOrigin = '';
  try {
    panelOrigin = new URL(remote).origin;
  } catch {
    // invalid remote was refused by config validation already
  }
  return origin === panelOrigin || allowed.includes(origin);
}

export async function wsRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.get<{ Params: { server: string } }>(
    '/api/servers/:server/ws',
    {
      websocket: true,
      schema: { summary: 'Websocket for backup events (auth frame with a panel-signed JWT)', tags: ['websocket'], hide: false },
      preValidation: async (req) => {
        deps.registry.require(req.params.server);
        if (!originAllowed(req.headers.origin, deps.config.remote, deps.config.allowedOrigins)) throw daemonErrors.forbidden();
      },
    },
    (socket: WebSocket, req) => {
      const serverUuid = canonicalUuid(req.params.server)!;
      let unsubscribe: (() => void) | null = null;
      let expiryTimer: NodeJS.Timeout | null = null;
      let warnTimer: NodeJS.Timeout | null = null;
      const send = (frame: string) => {
        if (socket.readyState === socket.OPEN) socket.send(frame);
      };
      const drop = () => {
        unsubscribe?.();
        unsubscribe = null;
        if (expiryTimer) clearTimeout(expiryTimer);
        if (warnTimer) clearTimeout(warnTimer);
        expiryTimer = null;
        warnTimer = null;
      };

      // A socket that never authenticates is dropped; a flooding one too (Wings CVE-2025-69199).
      const authDeadline = setTimeout(() => {
        if (!unsubscribe) socket.close(4001, 'authentication timeout');
      }, AUTH_TIMEOUT_MS);
      let windowStart = Date.now();
      let inWindow = 0;

      socket.on('message', (data) => {
        const now = Date.now();
        if (now - windowStart > RATE_WINDOW_MS) {
          windowStart = now;
          inWindow = 0;
        }
        if (++inWindow > RATE_MAX_FRAMES) {
          socket.close(1008, 'too many messages');
          return;
        }
        // Anything a client sends is untrusted: `null`, numbers or arrays parse as JSON too, and an
        // exception escaping this listener would take the whole daemon down.
        const frame = parseFrame(data.toString());
        if (!frame) return;
        if (frame.event !== WS_EVENTS.auth) {
          if (!unsubscribe) send(encodeFrame(WS_EVENTS.jwtError, 'authenticate first'));
          return;
        }
        const jwt = frame.args[0];
        void (async () => {
          try {
            if (typeof jwt !== 'string') throw new Error('no token');
            const claims = await deps.verifier.websocket(jwt);
            if (canonicalUuid(claims.server_uuid) !== serverUuid) throw new Error('token for another server');
            // The socket may have closed while the token was verified: subscribing now would leak.
            if (socket.readyState !== socket.OPEN) return;
            drop();
            unsubscribe = deps.hub.subscribe(serverUuid, { permissions: claims.permissions, send });
            // setTimeout fires at once for delays past 2^31-1 ms; a long-lived token must not expire at once.
            const msLeft = Math.min(claims.exp * 1000 - Date.now(), MAX_TIMER_MS);
            // As Wings: a minute's notice so the client can fetch a fresh token and re-auth.
            warnTimer = setTimeout(() => send(encodeFrame(WS_EVENTS.tokenExpiring)), Math.max(0, msLeft - 60_000));
            expiryTimer = setTimeout(() => {
              send(encodeFrame(WS_EVENTS.tokenExpired));
              drop();
            }, Math.max(0, msLeft));
            send(encodeFrame(WS_EVENTS.authSuccess));
          } catch {
            send(encodeFrame(WS_EVENTS.jwtError, 'jwt: invalid token'));
            drop();
            socket.close(4001, 'jwt error');
          }
        })();
      });
      socket.on('close', () => {
        clearTimeout(authDeadline);
        drop();
      });
      socket.on('error', drop);
    },
  );
}
