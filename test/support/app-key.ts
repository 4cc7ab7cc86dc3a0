/**
 * The APP_KEY tests give a panel that is not on a SQLite file (a PostgreSQL panel refuses to start
 * without one). One fixed key, so several panel processes in a test open each other's secrets.
 */
import { parseAppKey } from '../../src/core/secret-box.ts';

export const TEST_APP_KEY = 'base64:YmFja3dpbmctdGVzdC1hcHAta2V5LTMyLWJ5dGVzISE=';
export const TEST_APP_KEY_BYTES = parseAppKey(TEST_APP_KEY);
