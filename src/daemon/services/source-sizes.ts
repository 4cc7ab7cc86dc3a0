/**
 * How many bytes each server's last successful backup read, kept in `<state>/source-sizes.json`
 * so the next backup has a total from its first second, before the pre-scan is done. Losing the
 * file only costs that first estimate.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class SourceSizes {
  readonly #file: string;
  #sizes: Map<string, number> | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.#file = join(stateDir, 'source-sizes.json');
  }

  async #load(): Promise<Map<string, number>> {
    if (this.#sizes) return this.#sizes;
    const sizes = new Map<string, number>();
    try {
      const doc = JSON.parse(await readFile(this.#file, 'utf8')) as unknown;
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
        for (const [k, v] of Object.entries(doc)) if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) sizes.set(k, v);
      }
    } catch {
      // absent or torn: start empty
    }
    this.#sizes = sizes;
    return sizes;
  }

  async previous(serverUuid: string): Promise<number | null> {
    return (await this.#load()).get(serverUuid) ?? null;
  }

  /** Remembers a finished backup's size; writes are serialised and atomic (temp file + rename). */
  async remember(serverUuid: string, bytes: number): Promise<void> {
    const sizes = await this.#load();
    sizes.set(serverUuid, bytes);
    const body = JSON.stringify(Object.fromEntries(sizes));
    this.#writing = this.#writing.then(async () => {
      const tmp = `${this.#file}.tmp`;
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, this.#file);
    }).catch(() => undefined);
    await this.#writing;
  }

}
