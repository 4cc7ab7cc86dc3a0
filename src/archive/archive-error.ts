import { AppError } from '../core/app-error.ts';
import type { ExtractResult } from './types.ts';

/**
 * Codes: E_ARCHIVE_CORRUPT (bad gzip/tar data), E_ARCHIVE_TRUNCATED (input ended early),
 * E_ARCHIVE_ABORTED (AbortSignal fired), E_ARCHIVE_UNSAFE (a write would have left the root),
 * E_ARCHIVE_IO (filesystem error while reading the tree or writing the target),
 * E_ARCHIVE_ROOT (the root directory is missing or not a directory).
 */
export class ArchiveError extends AppError {
  /** What an extraction had written before it failed. */
  partial?: ExtractResult;

  constructor(code: string, message: string, opts: { cause?: unknown; status?: number; meta?: Record<string, unknown> } = {}) {
    super(code, opts.status ?? statusFor(code), message, { cause: opts.cause, meta: opts.meta });
    // Callers that only know the DOM convention can still recognise a cancellation.
    this.name = code === 'E_ARCHIVE_ABORTED' ? 'AbortError' : 'ArchiveError';
  }
}

function statusFor(code: string): number {
  switch (code) {
    case 'E_ARCHIVE_CORRUPT':
    case 'E_ARCHIVE_TRUNCATED':
      return 422;
    case 'E_ARCHIVE_ABORTED':
      return 499;
    default:
      return 500;
  }
}

export function abortedError(signal?: AbortSignal): ArchiveError {
  const reason = signal?.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  return new ArchiveError('E_ARCHIVE_ABORTED', `archive operation aborted: ${why}`, { cause: reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortedError(signal);
}
