/**
 * One file per running job under `<state>/jobs/`. The file exists exactly while the job runs, so
 * after a crash the survivors name the jobs that never reported: the next start reports them
 * failed instead of leaving the panel waiting.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type JobKind = 'backup' | 'restore';

export interface JournalEntry {
  kind: JobKind;
  server_uuid: string;
  backup_uuid: string;
  adapter: string;
  started_at: string;
}

export class JobJournal {
  readonly #dir: string;
  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'jobs');
  }

  #file(kind: JobKind, backupUuid: string): string {
    return join(this.#dir, `${kind}-${backupUuid}.json`);
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
  }

  async add(entry: JournalEntry): Promise<void> {
    await writeFile(this.#file(entry.kind, entry.backup_uuid), JSON.stringify(entry));
  }

  async remove(kind: JobKind, backupUuid: string): Promise<void> {
    await rm(this.#file(kind, backupUuid), { force: true });
  }

  /** Entries left by a previous process. Unreadable files are returned as null and removed. */
  async leftovers(): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const name of await readdir(this.#dir)) {
      const file = join(this.#dir, name);
      try {
        out.push(JSON.parse(await readFile(file, 'utf8')) as JournalEntry);
      } catch {
        await rm(file, { force: true });
      }
    }
    return out;
  }
}
