import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import { panelMigrations } from './migrations/index.ts';

class StaticProvider implements MigrationProvider {
  constructor(private readonly secrets: SecretBox) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return panelMigrations(this.secrets);
  }
}

/** Brings the schema up to date; safe to call on every start. `secrets` seals stored secrets (0008). */
export async function migrateToLatest(db: Kysely<any>, secrets: SecretBox): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider(secrets) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new AppError('E_MIGRATION', 500, `database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
