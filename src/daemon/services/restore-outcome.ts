/**
 * What a restore that stopped part-way leaves behind, in words for the person who has to decide
 * what to do next: how far it got, what the server's files are now, and the way out.
 */
export interface RestoreStopPoint {
  filesDone: number;
  /** Compressed archive bytes consumed. */
  bytesRead: number;
  archiveSize: number | null;
  truncated: boolean;
}

export function partialRestoreNote(p: RestoreStopPoint): string {
  if (p.filesDone === 0) {
    return p.truncated
      ? "nothing was restored, and the server's files had already been deleted; restore again"
      : "nothing was restored; the server's files are as they were";
  }
  const pct = p.archiveSize && p.archiveSize > 0 ? ` (about ${Math.min(99, Math.floor((p.bytesRead / p.archiveSize) * 100))}% of the archive)` : '';
  const files = `${p.filesDone} ${p.filesDone === 1 ? 'entry' : 'entries'}`;
  return p.truncated
    ? `it stopped after ${files}${pct}; the server's files had been deleted first, so only those are there and the last may be incomplete; restore again to get the whole backup`
    : `it stopped after ${files}${pct}; those were restored, the file it was writing may be incomplete, the others are as they were; restore again to get the whole backup`;
}

/** "cancelled: it stopped after 120 entries (about 35% of the archive); …" */
export function describeRestoreFailure(reason: string, p: RestoreStopPoint): string {
  return `${reason}: ${partialRestoreNote(p)}`;
}
