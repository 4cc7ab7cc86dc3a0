/**
 * Control through Wings' own HTTP API on this node (wings-control.md §1), with its node token.
 *
 * Console confirmation: Wings' command route answers 204 with no output, so the game's answer is
 * read back by polling `GET …/logs?size=100`. Chosen over Wings' websocket because the websocket
 * needs an Origin equal to the panel URL, a JWT whose `iat` is after Wings' boot (clock skew bites),
 * Pelican's extra `scope`/`user_uuid` claims, and still drops lines for a slow reader; the logs route
 * takes the same bearer token, holds no connection, and 100 lines polled every half second is far
 * more than a save command prints in that time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Secret } from '../../core/secret.ts';
import { ControlError, POWER_STATES, type CommandBackend, type CommandOptions, type PowerBackend, type PowerState, type ServerRef } from './types.ts';

const POLL_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;

/** Lines of `after` that are not in `before`: after the longest suffix of `before` that starts `after`. */
export function newLogLines(before: readonly string[], after: readonly string[]): string[] {
  for (let k = Math.min(before.length, after.length); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k && same; i++) same = before[before.length - k + i] === after[i];
    if (same) return after.slice(k);
  }
  return [...after];
}

export class WingsControl implements CommandBackend, PowerBackend {
  constructor(private readonly url: string, private readonly token: Secret) {}

  async #call(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token.reveal()}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new ControlError(`Wings did not answer (${(err as Error).cause instanceof Error ? ((err as Error).cause as NodeJS.ErrnoException).code ?? 'network error' : 'timeout'})`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Wings' errors are JSON; anything else is kept as null.
    }
    if (res.status === 401 || res.status === 403) throw new ControlError('Wings refused the node token');
    if (res.status === 404) throw new ControlError('Wings does not know this server');
    return { status: res.status, json };
  }

  #path(server: ServerRef, rest = ''): string {
    return `/api/servers/${encodeURIComponent(server.uuid)}${rest}`;
  }

  async state(server: ServerRef, signal?: AbortSignal): Promise<PowerState> {
    const { status, json } = await this.#call('GET', this.#path(server), undefined, signal);
    const state = (json as { state?: unknown } | null)?.state;
    if (status !== 200 || typeof state !== 'string' || !(POWER_STATES as readonly string[]).includes(state)) {
      throw new ControlError(`Wings answered the state request with ${status}`);
    }
    return state as PowerState;
  }

  async power(server: ServerRef, action: 'start' | 'stop', signal?: AbortSignal): Promise<void> {
    const { status, json } = await this.#call('POST', this.#path(server, '/power'), { action }, signal);
    if (status !== 202 && status !== 204) {
      const msg = (json as { error?: unknown } | null)?.error;
      throw new ControlError(`Wings refused to ${action} the server (${status}${typeof msg === 'string' ? `: ${msg}` : ''})`);
    }
  }

  async #logs(server: ServerRef, signal?: AbortSignal): Promise<string[]> {
    const { status, json } = await this.#call('GET', this.#path(server, '/logs?size=100'), undefined, signal);
    const data = (json as { data?: unknown } | null)?.data;
    if (status !== 200 || !Array.isArray(data)) throw new ControlError(`Wings answered the console log request with ${status}`);
    return data.map(String);
  }

  async send(server: ServerRef, command: string, opts: CommandOptions): Promise<string> {
    const deadline = Date.now() + opts.timeoutMs;
    const before = opts.expect ? await this.#logs(server, opts.signal) : [];
    const { status } = await this.#call('POST', this.#path(server, '/commands'), { commands: [command] }, opts.signal);
    if (status === 502) throw new ControlError('the server is not running', true);
    if (status !== 204 && status !== 200) throw new ControlError(`Wings refused the console command (${status})`);
    if (!opts.expect) return '';
    let seen = before;
    const fresh: string[] = [];
    for (;;) {
      await sleep(POLL_MS, undefined, { signal: opts.signal });
      const now = await this.#logs(server, opts.signal);
      fresh.push(...newLogLines(seen, now));
      seen = now;
      const hit = fresh.find((l) => opts.expect!.test(l));
      if (hit !== undefined) return fresh.join('\n');
      if (Date.now() >= deadline) throw new ControlError(`the game did not confirm "${command}" within ${Math.round(opts.timeoutMs / 1000)} s`);
    }
  }
}
