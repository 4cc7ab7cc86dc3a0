import { useEffect, useRef, useState } from 'react';
import type {
  BackupCompletedPayload,
  BackupProgressPayload,
  RestoreCompletedPayload,
  RestoreProgressPayload,
  WsFrame,
} from '../../../wire/ws-events.ts';
import { WS_EVENTS } from '../../../wire/ws-events.ts';
import { api } from '../api/client.ts';
import { ApiError } from '../api/http.ts';

export interface SocketHandlers {
  backupProgress?: (p: BackupProgressPayload) => void;
  backupCompleted?: (p: BackupCompletedPayload) => void;
  restoreProgress?: (p: RestoreProgressPayload) => void;
  restoreCompleted?: (p: RestoreCompletedPayload | null) => void;
}

/** 'live' only after the daemon accepted our token; callers poll the panel otherwise. */
export type SocketStatus = 'connecting' | 'live' | 'offline';

function parsePayload<T>(frame: WsFrame): T | null {
  const raw = frame.args?.[0];
  if (typeof raw !== 'string' || raw === '') return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

/**
 * Follows one server's daemon websocket: fetches a token from the panel, authenticates, re-auths on
 * `token expiring`, and reconnects with backoff when the socket drops or the token is refused.
 */
export function useServerSocket(server: string | null, handlers: SocketHandlers): SocketStatus {
  const [status, setStatus] = useState<SocketStatus>('connecting');
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;

  useEffect(() => {
    if (server === null) return;
    let disposed = false;
    let ws: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;

    const scheduleReconnect = () => {
      if (disposed || retry !== null) return;
      const delay = Math.min(15000, 1000 * 2 ** Math.min(failures, 4));
      failures += 1;
      retry = setTimeout(() => {
        retry = null;
        void connect();
      }, delay);
    };

    const reauth = async (socket: WebSocket) => {
      try {
        const creds = await api.websocket(server);
        if (!disposed && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ event: WS_EVENTS.auth, args: [creds.data.token] }));
        }
      } catch {
        socket.close();
      }
    };

    const onFrame = (socket: WebSocket, frame: WsFrame) => {
      const h = handlersRef.current;
      const event = frame.event;
      if (event === WS_EVENTS.authSuccess) {
        failures = 0;
        setStatus('live');
      } else if (event === WS_EVENTS.tokenExpiring) {
        void reauth(socket);
      } else if (event === WS_EVENTS.tokenExpired || event === WS_EVENTS.jwtError) {
        setStatus('offline');
        socket.close();
      } else if (event === WS_EVENTS.backupProgress) {
        const p = parsePayload<BackupProgressPayload>(frame);
        if (p) h.backupProgress?.(p);
      } else if (event === WS_EVENTS.backupCompleted || event.startsWith(`${WS_EVENTS.backupCompleted}:`)) {
        // Wings names the event `backup completed:<uuid>`; backwing sends the bare name.
        const p = parsePayload<BackupCompletedPayload>(frame);
        if (p) h.backupCompleted?.(p);
      } else if (event === WS_EVENTS.restoreProgress) {
        const p = parsePayload<RestoreProgressPayload>(frame);
        if (p) h.restoreProgress?.(p);
      } else if (event === WS_EVENTS.restoreCompleted) {
        h.restoreCompleted?.(parsePayload<RestoreCompletedPayload>(frame));
      }
    };

    const connect = async () => {
      if (disposed) return;
      setStatus('connecting');
      let creds;
      try {
        creds = await api.websocket(server);
      } catch (err) {
        setStatus('offline');
        // Without websocket permission asking again will not help; the page polls instead.
        if (!(err instanceof ApiError && (err.status === 403 || err.status === 401))) scheduleReconnect();
        return;
      }
      if (disposed) return;
      let socket: WebSocket;
      try {
        socket = new WebSocket(creds.data.socket);
      } catch {
        setStatus('offline');
        scheduleReconnect();
        return;
      }
      ws = socket;
      socket.onopen = () => socket.send(JSON.stringify({ event: WS_EVENTS.auth, args: [creds.data.token] }));
      socket.onmessage = (ev: MessageEvent) => {
        if (typeof ev.data !== 'string') return;
        let frame: WsFrame;
        try {
          frame = JSON.parse(ev.data) as WsFrame;
        } catch {
          return;
        }
        if (frame && typeof frame.event === 'string') onFrame(socket, frame);
      };
      socket.onclose = () => {
        if (ws === socket) ws = null;
        if (disposed) return;
        setStatus('offline');
        scheduleReconnect();
      };
    };

    void connect();
    return () => {
      disposed = true;
      if (retry !== null) clearTimeout(retry);
      ws?.close();
    };
  }, [server]);

  return status;
}
