import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { ArchiveError } from './archive-error.ts';
import { createArchive } from './create.ts';
import type { CreateOptions, CreateResult } from './types.ts';

export interface ArchiveFileHooks {
  /**
   * Put a stream in front of the file's: it must pass every byte on in order and finish only once
   * the file stream has closed. The local backup's read-back behind the writer uses it (issue 17).
   */
  wrapOutput?: (file: fs.WriteStream, tmpPath: string) => Writable;
}

/**
 * Writes the archive to `<dest>.<random>.tmp` beside `dest`, fsyncs it, renames it over `dest` and
 * fsyncs the directory, so `dest` is either the complete archive or untouched. On any failure the
 * temporary file is removed.
 */
export async function createArchiveFile(root: string, dest: string, opts: CreateOptions = {}, hooks: ArchiveFileHooks = {}): Promise<CreateResult> {
  const dir = dirname(dest);
  const tmp = join(dir, `${basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
  const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: 1 << 20 });
  try {
    const result = await createArchive(root, hooks.wrapOutput ? hooks.wrapOutput(out, tmp) : out, opts);
    await fs.promises.rename(tmp, dest);
    await fsyncDir(dir);
    return result;
  } catch (err) {
    if (!out.destroyed) out.destroy();
    if (!out.closed) await new Promise<void>((r) => out.once('close', () => r()));
    await fs.promises.rm(tmp, { force: true });
    if (err instanceof Error && 'code' in err && !(err instanceof ArchiveError) && typeof (err as { status?: unknown }).status !== 'number') {
      throw new ArchiveError('E_ARCHIVE_IO', `writing ${dest} failed: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
