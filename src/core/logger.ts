import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  name?: string;
}

/**
 * Structured JSON logs to stderr. Secrets never reach here: tokens and presigned URLs are redacted
 * by key name as a second line of defence.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? (process.env.BACKWING_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
      name: opts.name,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'download_url', '*.download_url', 'url', '*.url', 'password', '*.password', 'key', 'secret'],
        censor: '**redacted**',
      },
    },
    pino.destination(2),
  );
}

/** A logger that drops everything; the default for library code and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
