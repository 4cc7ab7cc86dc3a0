import type { Logger } from '../core/logger.ts';

/** Wings' level names, or a zlib level 0..9. */
export type CompressionLevel = 'best_speed' | 'best_compression' | 'none' | number;
export type ChecksumType = 'sha256' | 'sha1';

export interface ArchiveProgress {
  bytesRead: number;
  filesDone: number;
  bytesWritten: number;
  totalBytes: number | null;
}

export interface CreateOptions {
  /** The request's newline-separated patterns; merged after <root>/.pteroignore so they can override it. */
  ignore?: string;
  level?: CompressionLevel;
  checksum?: ChecksumType;
  /** Bytes per second on the compressed output; 0/undefined = unlimited. */
  writeLimit?: number;
  signal?: AbortSignal;
  onProgress?: (p: ArchiveProgress) => void;
  logger?: Logger;
  /**
   * false: no entries for directories, only for what is in them — as Wings writes its archives.
   * Wings (v1.11) cannot restore an archive with directory entries, so a sidecar beside Wings
   * writes none and Wings can still restore its backups after switching back. Empty directories
   * are then not kept (nor are they by Wings). Default true.
   */
  directoryEntries?: boolean;
  /** Build the backup index (backup-index.ts) in the same pass; it is returned as `result.index`. */
  index?: boolean;
  /**
   * false: the output is not hashed and `result.checksum` is '' — for a caller that computes the
   * checksum from the stored bytes as it reads them back (the local backup's verification,
   * src/archive/check-behind.ts), so the archive is hashed once, not twice. Default true.
   */
  hashOutput?: boolean;
}

export interface ChangedFiles {
  /** Regular files whose size or mtime moved between the stat and the end of their read. */
  count: number;
  /** The first (at most 20) of them, relative to the root. */
  names: string[];
  /**
   * Of those, how many may still be inconsistent in the archive: they changed again on the re-read
   * at the end of the archive, or were too large to re-read. The others' last copy is consistent.
   */
  inconsistent: number;
}

export interface CreateResult {
  size: number;
  checksum: string;
  checksumType: ChecksumType;
  files: number;
  bytesRead: number;
  changedFiles: ChangedFiles;
  /** The encoded backup index, when `index: true` was asked for. */
  index?: Buffer;
}

export interface ExtractOptions {
  signal?: AbortSignal;
  /** Bytes per second on the compressed input; 0/undefined = unlimited. */
  readLimit?: number;
  onProgress?: (p: ArchiveProgress) => void;
  onSkip?: (name: string, reason: string) => void;
  logger?: Logger;
  /**
   * Give every restored file, directory and link this owner (Wings' system.user). Unset = the
   * extracting process's own ids; archive owners are never applied.
   */
  owner?: { uid: number; gid: number };
}

export interface ExtractResult {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  bytesRead: number;
  bytesWritten: number;
  skipped: Array<{ name: string; reason: string }>;
}

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface ListedEntry {
  name: string;
  type: EntryType;
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
}

export interface VerifyResult {
  /** gzip members in the stream. */
  members: number;
  /** tar entries (PAX/long-name pseudo entries not counted). */
  entries: number;
  /** Uncompressed tar bytes. */
  bytes: number;
  /** True when every member carried our length subfield, i.e. the parallel inflate path ran. */
  parallelIndexed: boolean;
}
