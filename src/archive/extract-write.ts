import * as fs from 'node:fs';
import { ArchiveError } from './archive-error.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
export const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/**
 * Bits a new file gets right from open(2) (mode & ~umask); when they equal the entry's mode no
 * fchmod is needed. Read once: umask is process-wide and nothing here changes it.
 */
const UMASK = process.umask();

/** An entry that is refused (reported in `skipped`), not a failure of the extraction. */
export class Skip extends Error {}

/** One small regular file, whole: what the main thread or a writer thread puts on disk. */
export interface SmallWrite {
  abs: string | Buffer;
  parentAbs: string | Buffer;
  /** The name for messages. */
  shown: string;
  mode: number;
  mtime: number;
  data: Buffer[];
}

export interface GuardOptions {
  /** The target's real path with exactly one trailing slash. */
  prefix: string;
  owner: { uid: number; gid: number } | null;
  procCheck: boolean;
}

/**
 * The checks that keep every write inside the target, shared by the main thread and the writer
 * threads so both run exactly the same code: files are created O_NOFOLLOW|O_EXCL, the opened
 * descriptor's real path is re-checked through /proc/self/fd before a byte is written or an
 * existing file truncated, and a name is unlinked only after its parent's real path was checked.
 */
export class TargetGuard {
  readonly prefixBytes: Buffer;
  readonly #owner: { uid: number; gid: number } | null;
  readonly #procCheck: boolean;

  constructor(o: GuardOptions) {
    this.prefixBytes = Buffer.from(o.prefix);
    this.#owner = o.owner;
    this.#procCheck = o.procCheck;
  }

  /** Writes one small file; returns the bytes written. Throws Skip for a refused entry. */
  writeSmall(w: SmallWrite): number {
    const mode = w.mode & 0o1777;
    let fd: number;
    let existing = false;
    try {
      // Created with its final mode when umask keeps all of it: then no fchmod is needed. A new
      // file's mode never limits the descriptor open(2) returns, so 0o444 files are written too.
      fd = fs.openSync(w.abs, CREATE_FLAGS, (mode & UMASK) === 0 ? mode : 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      fd = this.openExisting(w.abs, w.parentAbs, w.shown);
      existing = true;
    }
    let done = 0;
    try {
      this.checkInside(fd, w.shown);
      if (existing) fs.ftruncateSync(fd, 0);
      let total = 0;
      for (const c of w.data) total += c.length;
      if (total > 0) {
        done = w.data.length === 1 ? fs.writeSync(fd, w.data[0]!) : fs.writevSync(fd, w.data);
        // A write on a regular file only comes back short on errors like ENOSPC; finish the rest
        if (done < total) {
          const rest = Buffer.concat(w.data).subarray(done);
          let off = 0;
          while (off < rest.length) off += fs.writeSync(fd, rest, off, rest.length - off);
          done = total;
        }
      }
      if (this.#owner) fs.fchownSync(fd, this.#owner.uid, this.#owner.gid);
      if (existing || (mode & UMASK) !== 0) fs.fchmodSync(fd, mode);
      fs.futimesSync(fd, w.mtime, w.mtime);
    } finally {
      fs.closeSync(fd);
    }
    return done;
  }

  /**
   * An existing name: reuse a plain single-link file in place; replace links and specials. The
   * caller truncates only after the /proc/self/fd check: if a parent was swapped for a symlink
   * after it was checked, this open may have reached a file outside the root, which must stay intact.
   */
  openExisting(abs: string | Buffer, parentAbs: string | Buffer, shown: string): number {
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) throw new Skip('a directory already exists at this path');
    if (st.isFile() && st.nlink === 1) return fs.openSync(abs, O_WRONLY | O_NOFOLLOW);
    // A symlink, a multiply-linked file (shared inode) or a special file: never write through it.
    this.unlinkInside(abs, parentAbs, shown);
    return fs.openSync(abs, CREATE_FLAGS, 0o600);
  }

  /**
   * Parents are checked once and cached, so a parent swapped for a symlink later would let an
   * unlink remove a name outside the root. Unlinks are rare (replacing links), so the parent's real
   * path is checked again right before each one; Node has no unlinkat to close the last gap.
   */
  unlinkInside(abs: string | Buffer, parentAbs: string | Buffer, shown: string): void {
    const real = fs.realpathSync(parentAbs, { encoding: 'buffer' });
    const p = this.prefixBytes;
    const root = p.length === 1 ? p : p.subarray(0, p.length - 1);
    const inside = real.equals(root) || (real.length > p.length && real.subarray(0, p.length).equals(p));
    if (!inside) {
      throw new ArchiveError('E_ARCHIVE_UNSAFE', `refusing to replace ${JSON.stringify(shown)}: its directory resolved outside the target directory (the tree changed during extraction)`);
    }
    fs.unlinkSync(abs);
  }

  checkInside(fd: number, shown: string): void {
    if (!this.#procCheck) return;
    let real: Buffer;
    try {
      // Bytes, so a name that is not UTF-8 is compared as it is.
      real = fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
    } catch {
      return;
    }
    const p = this.prefixBytes;
    if (real.length <= p.length || !real.subarray(0, p.length).equals(p)) {
      throw new ArchiveError('E_ARCHIVE_UNSAFE', `refusing to write ${JSON.stringify(shown)}: it resolved outside the target directory (the tree changed during extraction)`);
    }
  }
}
