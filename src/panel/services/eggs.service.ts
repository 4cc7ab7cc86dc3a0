/**
 * Game types (issue 17). Pterodactyl servers are made from an egg (in a nest); backwing keeps only
 * what backups need of it: the egg's id and nest as the upstream panel numbers them, a name, and
 * the ignore patterns every backup of the egg's servers gets (ARK's runtime, a modpack's caches),
 * merged above the node's defaults and below the server's .pteroignore and the request's list.
 */
import { parseIgnore } from '../../archive/ignore-rules.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { EggRow } from '../db/schema.ts';
import { PanelErrors, validName } from '../errors.ts';
import { isoNow, type ServiceDeps } from './deps.ts';

export interface PublicEgg {
  id: number;
  nest: number;
  name: string;
  /** Newline-separated patterns; null = none. */
  backupIgnore: string | null;
}

export const toPublicEgg = (e: EggRow): PublicEgg => ({ id: e.id, nest: Number(e.nest_id), name: e.name, backupIgnore: e.backup_ignore });

/** Empty = null; CRLF made LF; checked like a request's list (422 naming the line). */
export function normaliseIgnoreDefaults(text: string | null | undefined, source: string, field = 'backup_ignore'): string | null {
  if (text === null || text === undefined || text.trim() === '') return null;
  const value = text.replace(/\r\n/g, '\n');
  try {
    parseIgnore(value, source);
  } catch (err) {
    throw PanelErrors.validation(field, 'ignore', errorMessage(err));
  }
  return value;
}

const positiveId = (v: number, field: string): number => {
  if (!Number.isSafeInteger(v) || v <= 0) throw PanelErrors.validation(field, 'integer', `The ${field} must be a positive whole number.`);
  return v;
};

export class EggsService {
  constructor(private readonly d: ServiceDeps) {}

  async list(): Promise<PublicEgg[]> {
    return (await this.d.repos.eggs.list()).map(toPublicEgg);
  }

  async find(id: number): Promise<PublicEgg | undefined> {
    const e = await this.d.repos.eggs.findById(id);
    return e && toPublicEgg(e);
  }

  /** Creates egg `id` or changes the fields given; `backupIgnore` '' or null clears the defaults. */
  async set(id: number, input: { name?: string; nest?: number; backupIgnore?: string | null }): Promise<PublicEgg> {
    positiveId(id, 'egg');
    const existing = await this.d.repos.eggs.findById(id);
    if (!existing && input.name === undefined) throw PanelErrors.validation('name', 'required', 'The name field is required.');
    await this.d.repos.eggs.upsert({
      id,
      ...(input.name !== undefined ? { name: validName(input.name) } : {}),
      ...(input.nest !== undefined ? { nest_id: input.nest === 0 ? 0 : positiveId(input.nest, 'nest') } : {}),
      ...(input.backupIgnore !== undefined ? { backup_ignore: normaliseIgnoreDefaults(input.backupIgnore, 'egg defaults') } : {}),
      at: isoNow(this.d.clock),
    });
    return toPublicEgg((await this.d.repos.eggs.findById(id))!);
  }

  /** Servers made from it keep running; they just lose the egg's defaults (egg_id set null). */
  async delete(id: number): Promise<void> {
    if (!(await this.d.repos.eggs.delete(id))) throw PanelErrors.resourceNotFound();
  }
}
