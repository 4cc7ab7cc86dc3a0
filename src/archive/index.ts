/** Public API of the archive engine: standard multi-member .tar.gz, created in parallel, extracted safely. */
export type {
  ArchiveProgress,
  ChangedFiles,
  ChecksumType,
  CompressionLevel,
  CreateOptions,
  CreateResult,
  EntryType,
  ExtractOptions,
  ExtractResult,
  ListedEntry,
  VerifyResult,
} from './types.ts';
export { ArchiveError } from './archive-error.ts';
export { createArchive, resolveLevel } from './create.ts';
export { createArchiveFile } from './create-file.ts';
export { validateIgnore, IgnoreMatcher, mergeIgnoreSources, type IgnoreSource } from './ignore-rules.ts';
export { extractArchive } from './extract.ts';
export { listArchive, verifyArchive } from './inspect.ts';
export { decodeIndex, IndexCorruptError, IndexMismatchError, normalIndexPath, type BackupIndex, type IndexEntry } from './backup-index.ts';
export { buildIndex, fileSource, IndexView, readIndexedFile, readIndexedTar, type ArchiveSource } from './index-reader.ts';
export { checkArchive, type CheckExpectation, type CheckOptions, type CheckOutcome } from './check.ts';
