/**
 * The optional native addon (native/, built by `npm ci` through `npm run build:native`) that batches
 * the per-file system calls of small-file extraction and of the create walk, and deflates and
 * inflates whole gzip members through libdeflate; why it exists and what it measured is in
 * native/src/backwing_fs.c, parallel-gzip.ts and inflate.ts. When it is not built (no compiler, another
 * platform) or BACKWING_NATIVE_FS=0, everything runs the JavaScript path it replaces, which stays
 * the reference: the addon only takes the plain case and hands anything else back to it.
 */
import { createRequire } from 'node:module';

/** Numbers per file in readFiles' `out` (native/src/backwing_fs.c READ_FIELDS). */
export const READ_FIELDS = 9;

export interface NativeFs {
  /** See write_files in backwing_fs.c: returns the index of the first file it did not write. */
  writeFiles(dirfd: number, names: ArrayLike<string | Uint8Array>, meta: Float64Array, from: number, to: number, data: Uint8Array, umask: number, uid: number, gid: number): number;
  /**
   * See write_batch in backwing_fs.c: writes files [from, to) on the libuv threadpool straight from
   * `bufs`; resolves to the index of the first file it did not write.
   */
  writeBatch(dirfds: Int32Array, names: string, meta: Float64Array, bufs: Uint8Array[], from: number, to: number, umask: number, uid: number, gid: number): Promise<number>;
  /** See scan_headers in backwing_fs.c: how many plain tar entries from `from` it decoded into out. */
  scanHeaders(buf: Uint8Array, from: number, out: Float64Array, max: number): number;
  /** A close-on-exec duplicate of fd, or -1. */
  dupFd(fd: number): number;
  /** See read_files in backwing_fs.c: returns how many names it handled, or -1 (dir not opened). */
  readFiles(dir: string | Uint8Array, names: ArrayLike<string | Uint8Array>, from: number, to: number, buf: Uint8Array, maxFile: number, out: Float64Array): number;
  /** Whether libdeflate (Debian libdeflate0) was found: gzipMember/gunzipMember need it. */
  libdeflate: boolean;
  /** One gzip member (MTIME 0) at level 1-9 into out; resolves to its length, 0 when out is too small. */
  gzipMember(input: Uint8Array, out: Uint8Array, level: number): Promise<number>;
  /** 0 when member is exactly one valid member inflating to exactly out.length bytes, else negative. */
  gunzipMember(member: Uint8Array, out: Uint8Array): Promise<number>;
  /** libdeflate's CRC-32 of data from initial (native/src/verify_crc.c); needs libdeflate. */
  crc32?(data: Uint8Array, initial?: number): number;
}

function load(): { fs: NativeFs | null; why: string | null } {
  if (process.env.BACKWING_NATIVE_FS === '0') return { fs: null, why: 'BACKWING_NATIVE_FS=0' };
  if (process.platform !== 'linux') return { fs: null, why: `not on Linux (${process.platform})` };
  try {
    // The same relative place from src/archive (sources) and dist/archive (compiled).
    const req = createRequire(import.meta.url);
    return { fs: req('../../native/build/Release/backwing_fs.node') as NativeFs, why: null };
  } catch (err) {
    return { fs: null, why: (err as Error).message.split('\n')[0]! };
  }
}

const loaded = load();

/**
 * The addon, or null. `nativeFsTuning.enabled = false` forces the JavaScript path (tests run both);
 * the extraction writer thread gets the choice through its start options.
 */
export const nativeFsTuning = { enabled: true };

export function nativeFs(): NativeFs | null {
  return nativeFsTuning.enabled ? loaded.fs : null;
}

let told = false;
/** Says once per process, through the caller's logger, that the slower path runs and why. */
export function reportNativeFs(log: { info(obj: object, msg: string): void }): void {
  if (told || loaded.fs || !nativeFsTuning.enabled) return;
  told = true;
  log.info({ reason: loaded.why }, 'native fs addon not loaded: archive create/extract use the JavaScript path for small files (slower)');
}
