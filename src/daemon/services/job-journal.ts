/**
 * One file per running job under `<state>/jobs/`. The file exists exactly while the job runs, so
 * after a crash the survivors name the jobs that never reported: the next start reports them
 * failed instead of leaving the panel waiting.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type JobKind = 'backup' | 'restore';

export interface JournalEntry {
  kind: JobKind;
  server_uuid: string;
  backup_uuid: string;
  adapter: string;
  started_at: string;
  /**
   * Console commands the job owes the game (a save hook's after-step), written before the
   * before-step runs: a restarted daemon sends them if the job never finished.
   */
  save_hook_after?: string[];
}

/** A file that parses as JSON may still be `null` or another shape; recovery must not trip on it. */
function isEntry(v: unknown): v is JournalEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (e.kind === 'backup' || e.kind === 'restore') && typeof e.backup_uuid === 'string' && typeof e.server_uuid === 'string' && typeof e.adapter === 'string';
}

export class JobJournal {
  readonly #dir: string;
  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'jobs');
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
  }

  /**
   * Records a starting job and returns its entry id. Ids are unique per job so a finishing job
   * can never remove the entry of a newer job for the same backup or server.
   */
  async add(entry: JournalEntry): Promise<string> {
    const id = `${entry.kind}-${entry.backup_uuid}-${randomBytes(4).toString('hex')}.json`;
    await writeFile(join(this.#dir, id), JSON.stringify(entry));
    return id;
  }

  async remove(id: string): Promise<void> {
    // Ids come from add() or from readdir, never from a request.
    await rm(join(this.#dir, id), { force: true });
  }

  /** Entries left by a previous process, with their ids. Unreadable files are removed. */
  async leftovers(): Promise<Array<{ id: string; entry: JournalEntry }>> {
    const out: Array<{ id: string; entry: JournalEntry }> = [];
    for (const name of await readdir(this.#dir)) {
      const file = join(this.#dir, name);
      let entry: unknown = null;
      try {
        entry = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        // torn or foreign file: nothing usable in it
      }
      if (isEntry(entry)) out.push({ id: name, entry });
      else await rm(file, { force: true });
    }
    return out;
  }
}
