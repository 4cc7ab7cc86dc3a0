import type { Logger } from '../core/logger.ts';

/** The two calls the archive engine logs through: a caller's pino logger fits as it is. */
export type ArchiveLog = Pick<Logger, 'info' | 'warn'>;

/**
 * The engine's default when the caller passes no logger. Not core/logger's silentLogger: that one
 * loads pino (and its streams), ~25 ms of every `backwing archive` start-up for output it drops.
 */
export const quietLog: ArchiveLog = { info: () => undefined, warn: () => undefined };
