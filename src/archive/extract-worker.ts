/**
 * A writer thread for small files: it receives batches of whole small files (contents in one
 * transferred buffer, handed back with the answer for reuse) and writes them in order with exactly
 * the main thread's code (TargetGuard). A batch stops at the first unsafe path or failure, as
 * in-order extraction would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ArchiveError } from './archive-error.ts';
import { META_FIELDS, Skip, TargetGuard, type GuardOptions } from './extract-write.ts';

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

if (parentPort) {
  const port = parentPort;
  const guard = new TargetGuard(workerData as GuardOptions);
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
    for (let i = 0; i < m.names.length; i++) {
      const k = i * META_FIELDS;
      const off = meta[k + 3]!;
      try {
        reply.bytes += guard.writeSmall({ dir: dirs[meta[k]!]!, name: asPath(m.names[i]!), mode: meta[k + 1]!, mtime: meta[k + 2]!, data: [data.subarray(off, off + meta[k + 4]!)] });
      } catch (err) {
        if (err instanceof Skip) {
          reply.skips.push([i, err.message]);
          continue;
        }
        const unsafe = err instanceof ArchiveError && err.code === 'E_ARCHIVE_UNSAFE';
        reply.fatal = unsafe ? { index: i, unsafe: (err as Error).message } : { index: i, error: (err as Error).message };
        break;
      }
    }
    port.postMessage(reply, [m.data]);
  });
  port.postMessage('ready');
}
