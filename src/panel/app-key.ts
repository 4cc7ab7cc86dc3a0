/**
 * Which key seals the panel's stored secrets, decided once at start.
 *
 * - `APP_KEY` set: it seals; `APP_PREVIOUS_KEYS` still open what they sealed (rotation).
 * - Unset, SQLite file: the key lives in `app.key` beside the database file, generated on first
 *   start (mode 0600). The zero-configuration `backwing up` / `npm start` keeps working, and the
 *   data directory holds everything needed to read it back.
 * - Unset, `sqlite::memory:`: a key for this process only (the database dies with it).
 * - Unset, PostgreSQL: refused. Several panels share one database and must share one key, and a
 *   key generated on one machine would make the others fail at the first node token they open.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../core/app-error.ts';
import { generateAppKey, parseAppKey, SecretBox } from '../core/secret-box.ts';
import type { PanelConfig } from './config.ts';

export const APP_KEY_FILE = 'app.key';

/** Where a SQLite panel without APP_KEY keeps its key; undefined for other databases. */
export function appKeyFileFor(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith('sqlite:')) return undefined;
  const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (path === ':memory:' || path === '') return undefined;
  return join(dirname(resolve(path)), APP_KEY_FILE);
}

function keyFromFile(file: string): Buffer {
  if (!existsSync(file)) {
    // 'wx': two processes starting at once on a fresh directory must not each write their own key.
    try {
      writeFileSync(file, `${generateAppKey()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(file, 0o600);
  }
  return parseAppKey(readFileSync(file, 'utf8'), file);
}

/** The current key (sealing) first, then the previous ones. */
export function resolveAppKeys(config: Pick<PanelConfig, 'databaseUrl' | 'appKey' | 'previousAppKeys'>): Buffer[] {
  const previous = config.previousAppKeys ?? [];
  if (config.appKey) return [config.appKey, ...previous];
  const file = appKeyFileFor(config.databaseUrl);
  if (file) return [keyFromFile(file), ...previous];
  if (config.databaseUrl.startsWith('sqlite:')) return [randomBytes(32), ...previous];
  throw new AppError('E_CONFIG', 500,
    'invalid configuration: APP_KEY is required with PostgreSQL (every panel on the database must use the same key to read node tokens); '
    + 'create one with `backwing admin key generate` and set APP_KEY=<it> on every panel');
}

export function openSecretBox(config: Pick<PanelConfig, 'databaseUrl' | 'appKey' | 'previousAppKeys'>): SecretBox {
  return new SecretBox(resolveAppKeys(config));
}
