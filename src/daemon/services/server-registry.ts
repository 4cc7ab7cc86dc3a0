/**
 * The servers this node hosts. Loaded from the panel at start (paginated), retried in the
 * background while the panel is unreachable so the daemon serves meanwhile, and extended when the
 * panel announces a new server. Also holds the per-server "restoring" flag.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/logger.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { PanelClient } from '../panel-client/panel-client.ts';
import { canonicalUuid } from '../uuid.ts';
import { daemonErrors } from '../errors.ts';

const PER_PAGE = 50;

export class ServerRegistry {
  readonly #servers = new Set<string>();
  readonly #restoring = new Set<string>();
  #loaded = false;

  constructor(private readonly dataDir: string, private readonly panel: PanelClient, private readonly logger: Logger) {}

  get loaded(): boolean {
    return this.#loaded;
  }

  has(uuid: string): boolean {
    return this.#servers.has(uuid);
  }

  /** The server's data directory; throws 404 for unknown servers. */
  require(rawUuid: string): { uuid: string; dir: string } {
    const uuid = canonicalUuid(rawUuid);
    if (!uuid || !this.#servers.has(uuid)) throw daemonErrors.serverNotFound();
    return { uuid, dir: this.directory(uuid) };
  }

  directory(uuid: string): string {
    return join(this.dataDir, uuid);
  }

  async add(rawUuid: string): Promise<string> {
    const uuid = canonicalUuid(rawUuid);
    if (!uuid) throw daemonErrors.badRequest('The server identifier must be a valid UUID.');
    await mkdir(this.directory(uuid), { recursive: true, mode: 0o755 });
    this.#servers.add(uuid);
    return uuid;
  }

  /** Asks the panel about one server (POST /api/servers), then adds it. */
  async learn(rawUuid: string): Promise<string> {
    const uuid = canonicalUuid(rawUuid);
    if (!uuid) throw daemonErrors.badRequest('The server identifier must be a valid UUID.');
    const remote = await this.panel.getServer(uuid);
    return this.add(remote.uuid ?? uuid);
  }

  async loadOnce(): Promise<number> {
    let page = 1;
    let count = 0;
    for (;;) {
      const list = await this.panel.listServers(page, PER_PAGE);
      for (const s of list.data) {
        if (!canonicalUuid(s.uuid)) {
          this.logger.warn({ uuid: String(s.uuid).slice(0, 64) }, 'panel listed a server with an invalid uuid; skipped');
          continue;
        }
        await this.add(s.uuid);
        count++;
      }
      if (page >= (list.meta?.last_page ?? 1) || list.data.length === 0) break;
      page++;
    }
    this.#loaded = true;
    return count;
  }

  /** Loads from the panel, retrying with capped backoff until it works or `signal` aborts. */
  async loadWithRetry(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const n = await this.loadOnce();
        this.logger.info({ servers: n }, 'servers loaded from panel');
        return;
      } catch (err) {
        this.logger.warn({ err: errorMessage(err), retry_in_ms: delay }, 'cannot load servers from panel; retrying');
        try {
          await sleep(delay * (0.5 + Math.random() * 0.5), undefined, { signal });
        } catch {
          return;
        }
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  isRestoring(uuid: string): boolean {
    return this.#restoring.has(uuid);
  }

  /** Claims the restoring state; false when another restore already holds it. */
  beginRestore(uuid: string): boolean {
    if (this.#restoring.has(uuid)) return false;
    this.#restoring.add(uuid);
    return true;
  }

  endRestore(uuid: string): void {
    this.#restoring.delete(uuid);
  }
}
