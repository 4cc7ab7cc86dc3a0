/**
 * One error type for the whole codebase. `code` is stable and never reused; `status` is the HTTP
 * status the error maps to when it reaches an HTTP boundary. Each service keeps its own catalogue
 * of codes (see src/daemon/errors.ts, src/panel/errors.ts); this class only carries them.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra machine-readable details (e.g. the validation field), serialised by the boundary. */
  readonly meta?: Record<string, unknown>;
  /** Headers the HTTP boundary should add (e.g. Retry-After). */
  readonly headers?: Record<string, string>;
  /** Whether retrying the same operation may succeed (network blips, 5xx). */
  readonly retryable: boolean;

  constructor(
    code: string,
    status: number,
    message: string,
    opts: { cause?: unknown; meta?: Record<string, unknown>; headers?: Record<string, string>; retryable?: boolean } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.meta = opts.meta;
    this.headers = opts.headers;
    this.retryable = opts.retryable ?? false;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Message of any thrown value, for logs and reports. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
