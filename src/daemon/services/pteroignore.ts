/**
 * Reads a server's `.pteroignore` the way the daemon may touch a user-controlled file: the name is
 * opened without following a link and without blocking on a FIFO, only a regular file counts, and
 * no more than the ignore-list cap is read. Used by the size pre-scan, the ignore-file route and
 * `buildBackupIgnore`, where every source of a backup's patterns is merged.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { mergeIgnoreSources } from '../../archive/index.ts';

/** The archive refuses an ignore list above 32 KiB; reading more than that would be wasted. */
export const PTEROIGNORE_MAX_BYTES = 32 * 1024;

export type PteroignoreState = 'absent' | 'present' | 'symlink' | 'not_a_file' | 'too_large' | 'unreadable';

export interface PteroignoreFile {
  state: PteroignoreState;
  /** The file's text when `present`, else ''. */
  text: string;
  size: number;
}

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export async function readPteroignoreFile(serverDir: string): Promise<PteroignoreFile> {
  let fh;
  try {
    fh = await open(join(serverDir, '.pteroignore'), FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent', text: '', size: 0 };
    if (code === 'ELOOP') return { state: 'symlink', text: '', size: 0 };
    // Permissions and the like: say so rather than fail the request (the backup will report it).
    return { state: 'unreadable', text: '', size: 0 };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { state: 'not_a_file', text: '', size: 0 };
    if (st.size > PTEROIGNORE_MAX_BYTES) return { state: 'too_large', text: '', size: st.size };
    // Read one byte past the cap: a file that grew after the stat is still refused, never cut.
    const buf = Buffer.alloc(PTEROIGNORE_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    if (n > PTEROIGNORE_MAX_BYTES) return { state: 'too_large', text: '', size: n };
    return { state: 'present', text: buf.toString('utf8', 0, n), size: n };
  } finally {
    await fh.close();
  }
}

/**
 * The patterns a backup of `serverDir` applies, every source merged in the one place (issue 17),
 * lowest precedence first: the node's defaults the panel sends, the server's game type (egg)
 * defaults, then the server's `.pteroignore`, then the request's own list. The archive engine
 * reads `.pteroignore` again and puts it first; with the last match winning that changes nothing
 * (the copy here, after the defaults, is the one that counts).
 */
export async function buildBackupIgnore(serverDir: string, input: { defaults: string; eggDefaults?: string; request: string }): Promise<string> {
  const egg = input.eggDefaults ?? '';
  if (input.defaults.trim() === '' && egg.trim() === '') return input.request;
  const file = await readPteroignoreFile(serverDir);
  return mergeIgnoreSources([
    { source: 'node defaults', text: input.defaults },
    { source: 'egg defaults', text: egg },
    { source: '.pteroignore', text: file.state === 'present' ? file.text : '' },
    { source: 'ignore', text: input.request },
  ]);
}
