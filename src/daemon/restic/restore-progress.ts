/**
 * Progress of a restic restore. restic 0.16 and later print JSON status lines for `restore
 * --json`; the Debian 0.14 prints nothing. For those, the bytes done are the restic child's write
 * counter (`wchar` in /proc/<pid>/io: every byte it handed to write/pwrite, which for a restore is
 * the restored files' contents, whatever the filesystem), read twice a second. Summing the staging
 * directory instead would jump: restic preallocates each file at its full size on first write.
 */
import { readFile } from 'node:fs/promises';

/** Bytes the process has written so far, or null when /proc does not say (not Linux, gone). */
export async function bytesWrittenBy(pid: number): Promise<number | null> {
  try {
    const io = await readFile(`/proc/${pid}/io`, 'utf8');
    const m = /^wchar:\s*(\d+)$/m.exec(io);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Samples `pid`'s write counter every `everyMs` until stopped; each reading goes to `onBytes`. */
export function sampleWrites(pid: number, everyMs: number, onBytes: (bytes: number) => void): () => void {
  let stopped = false;
  const tick = async () => {
    const n = await bytesWrittenBy(pid);
    if (!stopped && n !== null) onBytes(n);
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
