import * as fs from 'node:fs';
import { ArchiveError } from './archive-error.ts';
import type { NativeFs } from './native-fs.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
export const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/**
 * Bits a new file gets right from open(2) (mode & ~umask); when they equal the entry's mode no
 * fchmod is needed. Read once: umask is process-wide and nothing here changes it.
 */
export const UMASK = process.umask();
/** Directories held open per thread; the least recently opened is closed beyond this. */
const HELD_DIRS = 256;

/** Numbers per file in a writer batch's meta: directory index, mode, mtime, data offset, data length. */
export const META_FIELDS = 5;

/** An entry that is refused (reported in `skipped`), not a failure of the extraction. */
export class Skip extends Error {}

/** Where an entry goes: its directory (absolute, already checked by the caller) and its last name. */
export interface Place {
  /** Absolute path of the parent directory, no trailing slash except for "/" itself. */
  dir: string | Buffer;
  /** The last component: never empty, never "." or "..", no "/". */
  name: string | Buffer;
}

/** One small regular file, whole: what the main thread or a writer thread puts on disk. */
export interface SmallWrite extends Place {
  mode: number;
  mtime: number;
  data: Buffer[];
}

export interface GuardOptions {
  /** The target's real path with exactly one trailing slash. */
  prefix: string;
  owner: { uid: number; gid: number } | null;
  procCheck: boolean;
  /** Whether the writer thread may use the native addon (native-fs.ts); the main thread decides. */
  nativeFs?: boolean;
}

function join(dir: string | Buffer, name: string | Buffer): string | Buffer {
  if (typeof dir === 'string' && typeof name === 'string') return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
  const d = typeof dir === 'string' ? Buffer.from(dir) : dir;
  const slash = d[d.length - 1] === 0x2f ? [] : [Buffer.from('/')];
  return Buffer.concat([d, ...slash, typeof name === 'string' ? Buffer.from(name) : name]);
}

/**
 * The checks that keep every write inside the target, shared by the main thread and the writer
 * threads so both run exactly the same code.
 *
 * Files are created O_NOFOLLOW|O_EXCL *inside a held directory*: each directory is opened once
 * (O_DIRECTORY|O_NOFOLLOW) and its real path, read back through /proc/self/fd, must be the root or
 * below it; names are then opened, checked and unlinked as `/proc/self/fd/<dirfd>/<name>`. The
 * kernel resolves that magic link to the open directory itself, not to whatever its path names
 * today, and looks `name` up in it (O_NOFOLLOW guarding that last step): the same as
 * openat(dirfd, name). Why this is equivalent to what it replaced (a readlink of every opened
 * file's /proc/self/fd entry, ~0.5 s of CPU per 54,000 files here): both verify a real path once
 * against the root after the last lstat of the path; before, per file after its open, now per
 * directory after its open, and every later file in it is created in that verified directory
 * however the path is changed meanwhile. A directory swapped for a symlink after its check cannot
 * redirect a write (it goes into the directory that was checked, which still lies inside the root
 * under its new name); moving that directory out of the root would take write access outside the
 * root, which whoever changes the tree under us does not have (with it they could write there
 * themselves). Unlinks gain the most: they used to re-check the parent's real path and then unlink
 * by name, with a gap between; now they act on the held directory itself, like unlinkat.
 *
 * Without /proc (procCheck false) names are opened by their absolute path with O_NOFOLLOW|O_EXCL
 * after the callers' lstat checks, as before.
 */
export class TargetGuard {
  readonly prefixBytes: Buffer;
  readonly #prefix: string;
  readonly #owner: { uid: number; gid: number } | null;
  readonly #procCheck: boolean;
  /** Held directories: key (the dir as a string; a Buffer dir as NUL + latin1) → `/proc/self/fd/N/`. */
  readonly #held = new Map<string, { fd: number; at: string }>();

  constructor(o: GuardOptions) {
    this.prefixBytes = Buffer.from(o.prefix);
    this.#prefix = o.prefix;
    this.#owner = o.owner;
    this.#procCheck = o.procCheck;
  }

  /** Closes the held directories. The guard stays usable (it reopens what it needs). */
  release(): void {
    for (const h of this.#held.values()) {
      try {
        fs.closeSync(h.fd);
      } catch {
        // already closed
      }
    }
    this.#held.clear();
  }

  /** The name for messages, relative to the root. */
  shown(p: Place): string {
    const dir = typeof p.dir === 'string' ? p.dir : p.dir.toString('utf8');
    const name = typeof p.name === 'string' ? p.name : p.name.toString('utf8');
    const rel = dir.length >= this.#prefix.length ? dir.slice(this.#prefix.length) : '';
    return rel === '' ? name : `${rel}/${name}`;
  }

  /**
   * The path that reaches `p.name` inside its held (checked) directory. Valid until the next
   * call: holding another directory may close the one this path names.
   */
  at(p: Place): string | Buffer {
    if (!this.#procCheck) return join(p.dir, p.name);
    const h = this.#heldFor(p);
    return typeof p.name === 'string' ? h.at + p.name : Buffer.concat([Buffer.from(h.at), p.name]);
  }

  #heldFor(p: Place): { fd: number; at: string } {
    const key = typeof p.dir === 'string' ? p.dir : `\u0000${p.dir.toString('latin1')}`;
    let h = this.#held.get(key);
    if (!h) {
      h = this.#hold(p);
      this.#held.set(key, h);
      if (this.#held.size > HELD_DIRS) {
        const [oldKey, old] = this.#held.entries().next().value as [string, { fd: number }];
        this.#held.delete(oldKey);
        fs.closeSync(old.fd);
      }
    }
    return h;
  }

  /**
   * Writes files [from, to) of a writer batch, all in the directory `dir`, through the native
   * addon; returns the index of the first file it left for writeSmall (`to` when none).
   *
   * Equivalent to writeSmall for the files it writes: the directory is held and checked by the
   * same #heldFor (a swapped directory throws E_ARCHIVE_UNSAFE here exactly as at() does), and
   * openat(heldFd, name, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW) is what the kernel does for
   * `/proc/self/fd/<heldFd>/<name>` with the same flags; the mode (setuid/setgid dropped with
   * & 0o1777), the umask rule for fchmod, the owner and the mtime are the same. The addon stops
   * before touching a name that exists (EEXIST) or that fails in any way, so truncating a plain
   * file, replacing a link, refusing a directory and every error stay writeSmall's; the fd is
   * only used during this synchronous call, so the LRU cannot close it meanwhile.
   */
  writeNative(nfs: NativeFs, dir: string | Buffer, names: ArrayLike<string | Uint8Array>, meta: Float64Array, from: number, to: number, data: Uint8Array): number {
    if (!this.#procCheck) return from;
    const first = names[from]!;
    const h = this.#heldFor({ dir, name: typeof first === 'string' ? first : Buffer.from(first.buffer, first.byteOffset, first.byteLength) });
    return nfs.writeFiles(h.fd, names, meta, from, to, data, UMASK, this.#owner?.uid ?? -1, this.#owner?.gid ?? -1);
  }

  /**
   * A new descriptor (the caller closes it) of `p.dir` held and checked exactly as for at() and
   * writeNative (a swapped directory throws E_ARCHIVE_UNSAFE here): what the native writer writes
   * into later, off this thread. A duplicate, not the held one, so the LRU may close the held one
   * meanwhile without the number being reused under a queued write. -1 when this guard does not
   * hold directories (no /proc) and the caller has to write by path.
   */
  dupHeld(nfs: NativeFs, p: Place): number {
    if (!this.#procCheck) return -1;
    const fd = nfs.dupFd(this.#heldFor(p).fd);
    if (fd < 0) throw new Error(`cannot duplicate the descriptor of ${JSON.stringify(this.shown(p))}'s directory`);
    return fd;
  }

  #hold(p: Place): { fd: number; at: string } {
    let fd: number;
    try {
      fd = fs.openSync(p.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (err) {
      // Checked as a directory by the caller, now a symbolic link (ENOTDIR with O_DIRECTORY, ELOOP
      // without) or no directory at all: the tree changed under us.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ELOOP') {
        throw new ArchiveError('E_ARCHIVE_UNSAFE', `refusing to write ${JSON.stringify(this.shown(p))}: its directory was replaced (by a symbolic link, which may lead outside the target directory, or a non-directory) after it was checked (the tree changed during extraction)`);
      }
      throw err;
    }
    let real: Buffer;
    try {
      // Bytes, so a name that is not UTF-8 is compared as it is.
      real = fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    const pre = this.prefixBytes;
    const root = pre.length === 1 ? pre : pre.subarray(0, pre.length - 1);
    const inside = real.equals(root) || (real.length > pre.length && real.subarray(0, pre.length).equals(pre));
    if (!inside) {
      fs.closeSync(fd);
      throw new ArchiveError('E_ARCHIVE_UNSAFE', `refusing to write ${JSON.stringify(this.shown(p))}: its directory resolved outside the target directory (the tree changed during extraction)`);
    }
    return { fd, at: `/proc/self/fd/${fd}/` };
  }

  /**
   * Opens `p` for writing: created O_EXCL with `mode` (the caller fixes the mode afterwards when
   * it is not `mode`), or an existing plain file reused in place (existing: true; the caller
   * truncates it). Links and special files there are replaced, never written through.
   */
  open(p: Place, mode: number): { fd: number; existing: boolean } {
    const path = this.at(p);
    try {
      return { fd: fs.openSync(path, CREATE_FLAGS, mode), existing: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = fs.lstatSync(path);
    if (st.isDirectory()) throw new Skip('a directory already exists at this path');
    if (st.isFile() && st.nlink === 1) return { fd: fs.openSync(path, O_WRONLY | O_NOFOLLOW), existing: true };
    // A symlink, a multiply-linked file (shared inode) or a special file: never write through it.
    fs.unlinkSync(path);
    return { fd: fs.openSync(path, CREATE_FLAGS, 0o600), existing: true };
  }

  /** Removes the name `p` (a non-directory) from its held directory. */
  unlink(p: Place): void {
    fs.unlinkSync(this.at(p));
  }

  /** Writes one small file; returns the bytes written. Throws Skip for a refused entry. */
  writeSmall(w: SmallWrite): number {
    const mode = w.mode & 0o1777;
    // Created with its final mode when umask keeps all of it: then no fchmod is needed. A new
    // file's mode never limits the descriptor open(2) returns, so 0o444 files are written too.
    const { fd, existing } = this.open(w, (mode & UMASK) === 0 ? mode : 0o600);
    let done = 0;
    try {
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
}
