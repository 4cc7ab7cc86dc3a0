/**
 * Server control as the panel sees it: what the node can do (asked from its daemon's
 * `GET /api/system` and cached, since a node's config changes only when its admin restarts it), and
 * each server's save hook, which its owner picks within what the node allows.
 */
import { errorMessage } from '../../core/app-error.ts';
import { checkSaveHook, type NodeControlInfo, type SaveHook } from '../../wire/server-control.ts';
import type { NodeRow, ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import type { ServerAccess } from './access.ts';
import type { ActivityService } from './activity.service.ts';
import { isoNow, nodeConnection, type Actor, type ServiceDeps } from './deps.ts';

const CACHE_MS = 60_000;
/** A node that did not answer is asked again sooner. */
const CACHE_FAILURE_MS = 10_000;

/** Wings (or an old backwing) has no `control` field: no control, only the none hook. */
export const NO_CONTROL: NodeControlInfo = { kind: 'none', power: 'none', restore_stops_server: false, save_hooks: ['none'], default_save_hook: 'none' };

export interface BackupControlView {
  /** null = the node did not answer; the UI then assumes nothing is stopped for it. */
  node: NodeControlInfo | null;
  /** The owner's choice, or null when the node's default applies. */
  saveHook: SaveHook | null;
}

function isControlInfo(v: unknown): v is NodeControlInfo {
  const c = v as Partial<NodeControlInfo> | null;
  return !!c && typeof c.kind === 'string' && typeof c.power === 'string' && typeof c.restore_stops_server === 'boolean' && Array.isArray(c.save_hooks) && typeof c.default_save_hook === 'string';
}

export class ServerControlService {
  readonly #cache = new Map<number, { until: number; info: NodeControlInfo | null }>();

  constructor(private readonly d: ServiceDeps, private readonly activity: ActivityService) {}

  /** The node's control, cached; null when its daemon cannot be reached right now. */
  async nodeControl(node: NodeRow): Promise<NodeControlInfo | null> {
    const now = this.d.clock().getTime();
    const hit = this.#cache.get(node.id);
    if (hit && hit.until > now) return hit.info;
    let info: NodeControlInfo | null;
    try {
      const sys = await this.d.daemon.systemInfo(nodeConnection(node));
      info = isControlInfo(sys.control) ? sys.control : NO_CONTROL;
    } catch (err) {
      this.d.logger.warn({ node: node.uuid, err: errorMessage(err) }, 'cannot read the node\'s server control');
      info = null;
    }
    this.#cache.set(node.id, { until: now + (info ? CACHE_MS : CACHE_FAILURE_MS), info });
    return info;
  }

  async view(server: ServerRow, node: NodeRow): Promise<BackupControlView> {
    const [info, saveHook] = await Promise.all([this.nodeControl(node), this.d.repos.saveHooks.find(server.id)]);
    return { node: info, saveHook };
  }

  /**
   * Sets the owner's hook after checking it against what the node allows now; `null` goes back to
   * the node's default. A node that cannot be asked refuses the change rather than store a guess.
   */
  async setSaveHook(server: ServerRow, node: NodeRow, raw: unknown, actor: Actor, access: ServerAccess): Promise<BackupControlView> {
    // Custom commands are console access in disguise: only those who hold every permission (the
    // owner, a root admin) may write them; a subuser with backup.create picks among the presets.
    if ((raw as { preset?: unknown } | null)?.preset === 'custom' && !access.all) throw PanelErrors.forbidden();
    if (raw === null) {
      await this.d.repos.saveHooks.remove(server.id);
    } else {
      // Fresh, not cached: the admin may just have narrowed the allowed list.
      this.#cache.delete(node.id);
      const info = await this.nodeControl(node);
      if (!info) throw PanelErrors.conflict('The node of this server cannot be reached to check the save hook; try again later.');
      const checked = checkSaveHook(raw, info.save_hooks);
      if ('problem' in checked) throw PanelErrors.validation('save_hook', 'in', checked.problem);
      await this.d.repos.saveHooks.upsert(server.id, checked.hook, isoNow(this.d.clock));
    }
    const view = await this.view(server, node);
    await this.activity.log({
      event: 'server:backup.save-hook',
      actor,
      properties: { preset: view.saveHook?.preset ?? null },
      subjects: [{ type: 'server', id: server.id }],
    });
    return view;
  }
}
