import type { Executor } from '../db/database.ts';
import type { ActivityLogRow } from '../db/schema.ts';
import { offsetOf, type Page, type PageRequest } from './page.ts';

export interface NewActivity {
  event: string;
  batch: string | null;
  ip: string | null;
  actor_id: number | null;
  api_key_id: number | null;
  properties: Record<string, unknown>;
  at: string;
  subjects: Array<{ type: string; id: number }>;
}

export interface ActivityWithActor extends ActivityLogRow {
  actor_uuid: string | null;
  actor_email: string | null;
  actor_username: string | null;
}

const COLUMNS = ['activity_logs.id', 'activity_logs.batch', 'activity_logs.event', 'activity_logs.ip', 'activity_logs.description', 'activity_logs.actor_id', 'activity_logs.api_key_id', 'activity_logs.properties', 'activity_logs.timestamp'] as const;

export class ActivityRepository {
  constructor(private readonly db: Executor) {}

  async insert(a: NewActivity): Promise<number> {
    const r = await this.db.insertInto('activity_logs').values({
      batch: a.batch, event: a.event, ip: a.ip, description: null, actor_id: a.actor_id, api_key_id: a.api_key_id,
      properties: JSON.stringify(a.properties), timestamp: a.at,
    }).returning('id').executeTakeFirstOrThrow();
    if (a.subjects.length > 0) {
      await this.db.insertInto('activity_log_subjects')
        .values(a.subjects.map((s) => ({ activity_log_id: r.id, subject_type: s.type, subject_id: s.id }))).execute();
    }
    return r.id;
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('activity_log_subjects').where('activity_log_id', '=', id).execute();
    await this.db.deleteFrom('activity_logs').where('id', '=', id).execute();
  }

  /** Entries with the given subject, newest first. */
  async listForSubject(type: string, id: number, p: PageRequest): Promise<Page<ActivityWithActor>> {
    const q = this.db.selectFrom('activity_logs')
      .where('activity_logs.id', 'in', (eb) => eb.selectFrom('activity_log_subjects').select('activity_log_subjects.activity_log_id')
        .where('activity_log_subjects.subject_type', '=', type).where('activity_log_subjects.subject_id', '=', id));
    const rows = await q.leftJoin('users', 'users.id', 'activity_logs.actor_id')
      .select([...COLUMNS, 'users.uuid as actor_uuid', 'users.email as actor_email', 'users.username as actor_username'])
      .orderBy('activity_logs.id', 'desc').limit(p.perPage).offset(offsetOf(p)).execute();
    const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  async subjectsOf(activityIds: number[]): Promise<Array<{ activity_log_id: number; subject_type: string; subject_id: number }>> {
    if (activityIds.length === 0) return [];
    return this.db.selectFrom('activity_log_subjects').select(['activity_log_id', 'subject_type', 'subject_id'])
      .where('activity_log_id', 'in', activityIds).orderBy('id').execute();
  }

  /** The newest entry with this event and subject, with its properties. */
  async latestForSubject(type: string, id: number, event: string): Promise<{ id: number; properties: string } | undefined> {
    return this.db.selectFrom('activity_logs').select(['activity_logs.id', 'activity_logs.properties'])
      .where('activity_logs.event', '=', event)
      .where('activity_logs.id', 'in', (eb) => eb.selectFrom('activity_log_subjects').select('activity_log_subjects.activity_log_id')
        .where('activity_log_subjects.subject_type', '=', type).where('activity_log_subjects.subject_id', '=', id))
      .orderBy('activity_logs.id', 'desc').limit(1).executeTakeFirst();
  }

  async listByEvent(event: string): Promise<ActivityLogRow[]> {
    return this.db.selectFrom('activity_logs').select(COLUMNS).where('activity_logs.event', '=', event).orderBy('activity_logs.id').execute();
  }
}
