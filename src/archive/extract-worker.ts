/**
 * A writer thread for small files: it receives batches of whole small files (contents in one
 * transferred buffer) and writes them in order with exactly the main thread's code (TargetGuard).
 * A batch stops at the first unsafe path or failure, as in-order extraction would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ArchiveError } from './archive-error.ts';
import { Skip, TargetGuard, type GuardOptions } from './extract-write.ts';

export interface WireWrite {
  abs: string | Uint8Array;
  parentAbs: string | Uint8Array;
  shown: string;
  mode: number;
  mtime: number;
  off: number;
  len: number;
}

export type WireResult = { ok: number } | { skip: string } | { unsafe: string } | { error: string };

export interface WireBatch {
  id: number;
  writes: WireWrite[];
  data: Uint8Array;
}

const asPath = (p: string | Uint8Array): string | Buffer => (typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength));

if (parentPort) {
  const port = parentPort;
  const guard = new TargetGuard(workerData as GuardOptions);
  port.on('message', (m: WireBatch) => {
    const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    const results: WireResult[] = [];
    for (const w of m.writes) {
      try {
        const ok = guard.writeSmall({ abs: asPath(w.abs), parentAbs: asPath(w.parentAbs), shown: w.shown, mode: w.mode, mtime: w.mtime, data: [data.subarray(w.off, w.off + w.len)] });
        results.push({ ok });
      } catch (err) {
        if (err instanceof Skip) {
          results.push({ skip: err.message });
          continue;
        }
        if (err instanceof ArchiveError && err.code === 'E_ARCHIVE_UNSAFE') results.push({ unsafe: err.message });
        else results.push({ error: (err as Error).message });
        break;
      }
    }
    port.postMessage({ id: m.id, results });
  });
  port.postMessage('ready');
}
