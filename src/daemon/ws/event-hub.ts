/**
 * Fan-out of job events to the websockets of a server. The jobs know nothing about sockets; they
 * publish here. Backup events need `backup.read` (or `*`) like Wings; restore events go to every
 * authenticated socket of the server.
 */
import { encodeFrame, WS_EVENTS } from '../../wire/ws-events.ts';

export interface Subscriber {
  permissions: readonly string[];
  send(frame: string): void;
}

function canSee(event: string, permissions: readonly string[]): boolean {
  if (event === WS_EVENTS.backupProgress || event === WS_EVENTS.backupCompleted) {
    return permissions.includes('*') || permissions.includes('backup.read');
  }
  return true;
}

export class EventHub {
  readonly #subs = new Map<string, Set<Subscriber>>();

  subscribe(serverUuid: string, sub: Subscriber): () => void {
    let set = this.#subs.get(serverUuid);
    if (!set) {
      set = new Set();
      this.#subs.set(serverUuid, set);
    }
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0) this.#subs.delete(serverUuid);
    };
  }

  publish(serverUuid: string, event: string, payload: unknown): void {
    const set = this.#subs.get(serverUuid);
    if (!set) return;
    const frame = encodeFrame(event, payload);
    for (const sub of set) {
      if (!canSee(event, sub.permissions)) continue;
      try {
        sub.send(frame);
      } catch {
        // a socket closing mid-send is not the job's problem
      }
    }
  }
}

/** Calls `fn` at most every `ms`, always letting the final value through via `flush`. */
export function throttle<T>(ms: number, fn: (v: T) => void): { push(v: T): void; flush(): void } {
  let last = 0;
  let pending: T | undefined;
  return {
    push(v: T) {
      const now = Date.now();
      if (now - last >= ms) {
        last = now;
        pending = undefined;
        fn(v);
      } else {
        pending = v;
      }
    },
    flush() {
      if (pending !== undefined) fn(pending);
      pending = undefined;
    },
  };
}
