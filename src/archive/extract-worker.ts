/**
 * A writer thread for small files: it receives batches of whole small files (contents in one
 * transferred buffer, handed back with the answer for reuse) and writes them in order with exactly
 * the main thread's code (TargetGuard). A batch stops at the first unsafe path or failure, as
 * in-order extraction would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ArchiveError } from './archive-error.ts';
import { META_FIELDS, Skip, TargetGuard, type GuardOptions } from './extract-write.ts';
import { nativeFs } from './native-fs.ts';

/**
 * Flat on purpose: a few arrays and one transferred buffer clone far cheaper than an object per
 * file (structured cloning those was a visible share of both threads' CPU on 54,000 small files).
 */
export interface WireBatch {
  id: number;
  /** Absolute parent directories (as Place.dir), indexed by meta; Uint8Array when not UTF-8. */
  dirs: Array<string | Uint8Array>;
  /** Each file's last name component, in archive order. */
  names: Array<string | Uint8Array>;
  meta: Float64Array;
  data: ArrayBuffer;
}

export interface WireReply {
  id: number;
  /** Bytes written by the batch. */
  bytes: number;
  /** Files refused (index, reason); every other file before `fatal` was written. */
  skips: Array<[number, string]>;
  /** The file that stopped the batch (nothing after it was written). */
  fatal: { index: number; unsafe?: string; error?: string } | null;
  data: ArrayBuffer;
}

const asPath = (p: string | Uint8Array): string | Buffer => (typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength));

/** The file that stops the batch: nothing after it is written, as in-order extraction would. */
function fail(reply: WireReply, index: number, err: unknown): void {
  const unsafe = err instanceof ArchiveError && err.code === 'E_ARCHIVE_UNSAFE';
  reply.fatal = unsafe ? { index, unsafe: (err as Error).message } : { index, error: (err as Error).message };
}

if (parentPort) {
  const port = parentPort;
  const options = workerData as GuardOptions;
  const guard = new TargetGuard(options);
  // Without /proc there is no held directory to openat() in: the JavaScript path, as before.
  const nfs = options.nativeFs && options.procCheck ? nativeFs() : null;
  port.on('message', (m: WireBatch | 'close') => {
    if (m === 'close') {
      guard.release();
      port.postMessage('closed');
      return;
    }
    const data = Buffer.from(m.data);
    const dirs = m.dirs.map(asPath);
    const reply: WireReply = { id: m.id, bytes: 0, skips: [], fatal: null, data: m.data };
    const meta = m.meta;
    const n = m.names.length;
    let i = 0;
    while (i < n && !reply.fatal) {
      if (nfs) {
        // The run of files in the same directory goes to the addon; the first file it leaves
        // (anything but a fresh plain create) is written below by writeSmall, then the run resumes.
        const dirIndex = meta[i * META_FIELDS]!;
        let end = i + 1;
        while (end < n && meta[end * META_FIELDS] === dirIndex) end++;
        try {
          const stop = guard.writeNative(nfs, dirs[dirIndex]!, m.names, meta, i, end, data);
          for (; i < stop; i++) reply.bytes += meta[i * META_FIELDS + 4]!;
        } catch (err) {
          fail(reply, i, err);
          break;
        }
        if (i === end) continue;
      }
      const k = i * META_FIELDS;
      const off = meta[k + 3]!;
      try {
        reply.bytes += guard.writeSmall({ dir: dirs[meta[k]!]!, name: asPath(m.names[i]!), mode: meta[k + 1]!, mtime: meta[k + 2]!, data: [data.subarray(off, off + meta[k + 4]!)] });
      } catch (err) {
        if (err instanceof Skip) reply.skips.push([i, err.message]);
        else fail(reply, i, err);
      }
      i++;
    }
    port.postMessage(reply, [m.data]);
  });
  port.postMessage('ready');
}
