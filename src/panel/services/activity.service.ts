import type { Repos } from '../repositories/index.ts';
import type { ActivityWithActor } from '../repositories/activity.repository.ts';
import { isoNow, type Actor, type ServiceDeps } from './deps.ts';

export interface ActivityEntry {
  event: string;
  actor: Actor | null;
  properties: Record<string, unknown>;
  subjects: Array<{ type: 'backup' | 'server' | 'user' | 'schedule' | string; id: number }>;
}

export interface ActivityView {
  id: number;
  event: string;
  ip: string | null;
  isApi: boolean;
  properties: Record<string, unknown>;
  timestamp: string;
  actor: { uuid: string; email: string; username: string } | null;
}

function toView(r: ActivityWithActor): ActivityView {
  let properties: Record<string, unknown> = {};
  try { properties = JSON.parse(r.properties) as Record<string, unknown>; } catch { /* keep empty */ }
  return {
    id: r.id, event: r.event, ip: r.ip, isApi: r.api_key_id !== null, properties, timestamp: r.timestamp,
    actor: r.actor_uuid ? { uuid: r.actor_uuid, email: r.actor_email ?? '', username: r.actor_username ?? '' } : null,
  };
}

export class ActivityService {
  constructor(private readonly d: ServiceDeps) {}

  /** Writes one entry; pass transaction-bound repos to make it part of a larger change. */
  async log(entry: ActivityEntry, repos: Repos = this.d.repos): Promise<void> {
    await this.record(entry, repos);
  }

  /** Like log, returning the entry's id so it can be withdrawn if the action then fails. */
  async record(entry: ActivityEntry, repos: Repos = this.d.repos): Promise<number> {
    return repos.activity.insert({
      event: entry.event,
      batch: null,
      ip: entry.actor?.ip ?? null,
      actor_id: entry.actor?.userId ?? null,
      api_key_id: entry.actor?.apiKeyId ?? null,
      properties: entry.properties,
      at: isoNow(this.d.clock),
      subjects: entry.subjects,
    });
  }

  /**
   * `server:backup.restore-failed` for a restore that will never report (daemon restarted, report
   * lost), naming the backup of the server's newest restore request when there is one.
   */
  async logRestoreAbandoned(serverId: number, reason: string, repos: Repos = this.d.repos): Promise<void> {
    const subjects: ActivityEntry['subjects'] = [{ type: 'server', id: serverId }];
    const properties: Record<string, unknown> = { reason };
    const last = await this.lastRestoreRequest(serverId, repos);
    if (last?.backupId !== undefined) {
      subjects.unshift({ type: 'backup', id: last.backupId });
      properties.name = last.name;
    }
    await this.log({ event: 'server:backup.restore-failed', actor: null, properties, subjects }, repos);
  }

  /** The backup (id, name) of the server's newest restore request, from its activity entry. */
  async lastRestoreRequest(serverId: number, repos: Repos = this.d.repos): Promise<{ backupId?: number; name?: string } | undefined> {
    const started = await repos.activity.latestForSubject('server', serverId, 'server:backup.restore');
    if (!started) return undefined;
    const backupSubject = (await repos.activity.subjectsOf([started.id])).find((x) => x.subject_type === 'backup');
    let name: string | undefined;
    try {
      const v = (JSON.parse(started.properties) as { name?: unknown }).name;
      if (typeof v === 'string') name = v;
    } catch { /* the name is a nicety */ }
    return { ...(backupSubject ? { backupId: backupSubject.subject_id } : {}), ...(name !== undefined ? { name } : {}) };
  }

  /** Withdraws an entry written ahead of an action that then failed. */
  async remove(id: number): Promise<void> {
    await this.d.repos.activity.delete(id);
  }

  async listForServer(serverId: number, page: number, perPage: number): Promise<{ entries: ActivityView[]; total: number }> {
    const r = await this.d.repos.activity.listForSubject('server', serverId, { page, perPage });
    return { entries: r.rows.map(toView), total: r.total };
  }

  async listForBackup(backupId: number, page = 1, perPage = 50): Promise<{ entries: ActivityView[]; total: number }> {
    const r = await this.d.repos.activity.listForSubject('backup', backupId, { page, perPage });
    return { entries: r.rows.map(toView), total: r.total };
  }
}
