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
/** Beside Wings: the shortest time between two re-reads of the node's server list. */
const REFRESH_INTERVAL_MS = 5_000;

export interface ServerRegistryOptions {
  /**
   * Beside Wings, servers are created through Wings and never announced to us, and their
   * directories are Wings' to create (with the game user as owner): an unknown server makes us
   * re-read the node's list from the panel instead, and we create no directories.
   */
  sidecar?: boolean;
}

export class ServerRegistry {
  readonly #servers = new Set<string>();
  readonly #restoring = new Set<string>();
  #loaded = false;
  #refreshing: Promise<void> | null = null;
  #refreshedAt = 0;

  constructor(
    private readonly dataDir: string,
    private readonly panel: PanelClient,
    private readonly logger: Logger,
    private readonly opts: ServerRegistryOptions = {},
  ) {}

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

  /** `require`, but beside Wings an unknown server first re-reads the node's list (throttled, shared). */
  async resolve(rawUuid: string): Promise<{ uuid: string; dir: string }> {
    const uuid = canonicalUuid(rawUuid);
    if (uuid && !this.#servers.has(uuid) && this.opts.sidecar) await this.#refresh();
    return this.require(rawUuid);
  }

  async knows(rawUuid: string): Promise<boolean> {
    try {
      await this.resolve(rawUuid);
      return true;
    } catch {
      return false;
    }
  }

  #refresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    if (Date.now() - this.#refreshedAt < REFRESH_INTERVAL_MS) return Promise.resolve();
    this.#refreshing = this.loadOnce()
      .then(() => undefined, (err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'cannot re-read servers from panel'))
      .finally(() => {
        this.#refreshedAt = Date.now();
        this.#refreshing = null;
      });
    return this.#refreshing;
  }

  directory(uuid: string): string {
    return join(this.dataDir, uuid);
  }

  async add(rawUuid: string): Promise<string> {
    const uuid = canonicalUuid(rawUuid);
    if (!uuid) throw daemonErrors.badRequest('The server identifier must be a valid UUID.');
    if (!this.opts.sidecar) await mkdir(this.directory(uuid), { recursive: true, mode: 0o755 });
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
