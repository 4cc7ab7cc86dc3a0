/**
 * Exit codes of `backwing backups ...`. Scripts branch on these, so they are part of the CLI's
 * contract: documented in the README and never renumbered.
 */
export const EXIT = {
  /** The command did what was asked (for --wait: the job finished successfully). */
  ok: 0,
  /** The request could not be made or was refused (bad key, unknown server, limit reached, …). */
  error: 1,
  /** --wait: the backup or restore ran and the daemon reported it failed. */
  jobFailed: 3,
  /** --wait: the job did not finish within --timeout; it may still finish later. */
  timeout: 4,
  /** download: the file arrived but its sha256 does not match the panel's checksum. */
  checksumMismatch: 5,
  /** verify: the backup was read back and is damaged (the reason is on stderr). */
  damaged: 6,
} as const;
