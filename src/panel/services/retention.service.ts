import type { RetentionPolicyObject, RetentionPreview } from '../../wire/schedules.ts';
import type { BackupRow, ServerRow } from '../db/schema.ts';
import type { RetentionPolicyRow } from '../db/schedules.schema.ts';
import { BackupsRepository } from '../repositories/backups.repository.ts';
import { RetentionPoliciesRepository } from '../repositories/retention-policies.repository.ts';
import { ServersRepository } from '../repositories/servers.repository.ts';
import { applyRetention, EMPTY_POLICY, isEmptyPolicy, type RetentionDecision, type RetentionPolicy } from '../retention/retention-policy.ts';
import { atom } from './backup-view.ts';
import type { ScheduleDeps } from './schedule-ports.ts';
import { validateRetentionBody } from './schedule-validation.ts';

type Candidate = Omit<BackupRow, 'is_successful' | 'is_locked'> & { is_successful: boolean; is_locked: boolean };

const toCandidate = (b: BackupRow): Candidate => ({ ...b, is_successful: b.is_successful === 1 && b.completed_at !== null, is_locked: b.is_locked === 1 });

function policyOf(row: RetentionPolicyRow | undefined): RetentionPolicy {
  if (!row) return { ...EMPTY_POLICY };
  return { keep_last: row.keep_last, keep_hourly: row.keep_hourly, keep_daily: row.keep_daily, keep_weekly: row.keep_weekly, keep_monthly: row.keep_monthly };
}

export interface RetentionRunResult {
  serverId: number;
  removed: string[];
  failed: Array<{ uuid: string; reason: string }>;
}

/**
 * Per-server retention policies: storage, dry run, and the automatic application after each
 * successful backup. Locked backups are never deleted here, whatever the policy says.
 */
export class RetentionService {
  private readonly policies: RetentionPoliciesRepository;
  private readonly backupRows: BackupsRepository;
  private readonly servers: ServersRepository;

  constructor(private readonly d: ScheduleDeps, dialect: 'sqlite' | 'postgres') {
    this.policies = new RetentionPoliciesRepository(d.db);
    this.backupRows = new BackupsRepository(d.db);
    this.servers = new ServersRepository(d.db, dialect);
  }

  private toObject(row: RetentionPolicyRow | undefined): RetentionPolicyObject {
    return { object: 'backup_retention_policy', attributes: { ...policyOf(row), updated_at: row ? atom(row.updated_at) : null } };
  }

  async get(server: ServerRow): Promise<RetentionPolicyObject> {
    return this.toObject(await this.policies.findForServer(server.id));
  }

  /** PUT semantics: an absent rule is turned off. Saving deletes nothing by itself. */
  async put(server: ServerRow, body: unknown): Promise<{ object: RetentionPolicyObject; policy: RetentionPolicy }> {
    const policy = validateRetentionBody(body);
    const through = await this.policies.newestSuccessfulCompletion(server.id);
    await this.policies.upsert(server.id, policy, through, this.d.clock.now().toISOString());
    return { object: this.toObject(await this.policies.findForServer(server.id)), policy };
  }

  /** The dry run: the same computation as a real run, with the saved policy or one from the body. */
  async preview(server: ServerRow, body: unknown): Promise<RetentionPreview> {
    const saved = policyOf(await this.policies.findForServer(server.id));
    const hasBody = body !== null && typeof body === 'object' && Object.keys(body).length > 0;
    const policy = hasBody ? validateRetentionBody(body, saved) : saved;
    const decision = await this.decide(server.id, policy);
    const entry = (b: Candidate, reasons: string[]) => ({
      uuid: b.uuid, name: b.name, created_at: atom(b.created_at), completed_at: atom(b.completed_at),
      is_successful: b.is_successful, is_locked: b.is_locked, reasons,
    });
    return {
      object: 'backup_retention_preview',
      attributes: {
        policy,
        keep: decision.keep.map((k) => entry(k.backup, k.reasons)),
        remove: decision.remove.map((r) => entry(r.backup, [r.reason])),
      },
    };
  }

  private async decide(serverId: number, policy: RetentionPolicy): Promise<RetentionDecision<Candidate>> {
    return applyRetention((await this.backupRows.listAllForServer(serverId)).map(toCandidate), policy);
  }

  /**
   * Applies every policy that has a newer successful backup than its last application. Each
   * application is claimed with a conditional UPDATE, so several panel processes never apply the
   * same one twice.
   */
  async applyPending(serverId?: number): Promise<RetentionRunResult[]> {
    const results: RetentionRunResult[] = [];
    for (const p of await this.policies.listPending(serverId)) {
      // Never delete under a running restore (it may be reading one of these archives); the
      // application stays pending and the scheduler's next tick picks it up.
      if ((await this.servers.findById(p.server_id))?.status === 'restoring_backup') continue;
      if (!(await this.policies.claimApplication(p.server_id, p.applied_through, p.newest, this.d.clock.now().toISOString()))) continue;
      results.push(await this.applyNow(p.server_id));
    }
    return results;
  }

  private async applyNow(serverId: number): Promise<RetentionRunResult> {
    const result: RetentionRunResult = { serverId, removed: [], failed: [] };
    const server = await this.servers.findById(serverId);
    const policy = policyOf(await this.policies.findForServer(serverId));
    if (!server || isEmptyPolicy(policy)) return result;
    const decision = await this.decide(serverId, policy);
    for (const { backup, reason } of decision.remove) {
      // Re-read right before deleting: a lock set since the decision wins.
      const row = await this.backupRows.findLiveForServer(serverId, backup.uuid);
      if (!row || row.is_locked === 1) continue;
      try {
        await this.d.backups.delete(server, row);
        result.removed.push(row.uuid);
        await this.d.activity.log('server:backup.retention-delete', { name: row.name, uuid: row.uuid, reason, failed: row.is_successful !== 1 }, [
          { type: 'backup', id: row.id }, { type: 'server', id: serverId },
        ]);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        result.failed.push({ uuid: row.uuid, reason: message });
        this.d.logger.warn({ server_id: serverId, backup_uuid: row.uuid, err }, 'retention delete failed');
        await this.d.activity.log('server:backup.retention-failed', { name: row.name, uuid: row.uuid, reason: message }, [
          { type: 'backup', id: row.id }, { type: 'server', id: serverId },
        ]);
      }
    }
    return result;
  }
}
