import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from './helpers.ts';
import { SecretBox } from '../../../core/secret-box.ts';

/**
 * Several panels on one database (issue 15):
 * - `rate_limits`: the login attempt limit and the client API rate limit as fixed windows counted
 *   in the database, so every panel process sees the same count (one atomic upsert per hit).
 * - An index for the client API's backup list (measured in docs/benchmarks.md).
 * - Secrets the panel reads back are sealed with APP_KEY: node daemon tokens and server webhook
 *   signing secrets stored in clear by earlier versions are sealed here.
 */
export function sharedLimits(secrets: SecretBox): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // PostgreSQL: UNLOGGED, as counters need no crash safety (they are emptied after a crash) and
      // a hit then writes no WAL, so counting every client API request costs no log flush.
      await db.schema.createTable('rate_limits')
        .$call((t) => (isPostgres(db) ? t.modifyFront(sql`unlogged`) : t))
        .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
        // Milliseconds since the epoch: compared arithmetically in the upsert.
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rate_limits_expires_index').on('rate_limits').column('expires_at').execute();

      // The client API's backup list (live backups of one server by id): without it SQLite sorted
      // each page in a temporary b-tree, half of the route's database time under load.
      await db.schema.createIndex('backups_server_live_index').on('backups').columns(['server_id', 'deleted_at', 'id']).execute();

      const nodes = await db.selectFrom('nodes').select(['id', 'daemon_token']).execute() as Array<{ id: number; daemon_token: string }>;
      for (const n of nodes) {
        if (SecretBox.isSealed(n.daemon_token)) continue;
        await db.updateTable('nodes').set({ daemon_token: secrets.seal(n.daemon_token) }).where('id', '=', n.id).execute();
      }
      const hooks = await db.selectFrom('notification_webhooks').select(['id', 'secret']).where('secret', 'is not', null).execute() as Array<{ id: number; secret: string }>;
      for (const h of hooks) {
        if (SecretBox.isSealed(h.secret)) continue;
        await db.updateTable('notification_webhooks').set({ secret: secrets.seal(h.secret) }).where('id', '=', h.id).execute();
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('backups_server_live_index').ifExists().execute();
      // Secrets stay sealed: opening them again needs the key, which a down migration does not have.
      await db.schema.dropTable('rate_limits').ifExists().execute();
    },
  };
}
