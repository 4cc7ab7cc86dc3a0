/** Shared by the destination suites: put a file on a server's volume, back it up, wait until it ends. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, type Harness } from '../panel/support/harness.ts';
import type { BackupRow, ServerRow } from '../../src/panel/db/schema.ts';

export async function backupOnVolume(h: Harness, server: ServerRow, daemonRoot: string, name: string): Promise<BackupRow> {
  const vol = join(daemonRoot, 'volumes', server.uuid);
  mkdirSync(vol, { recursive: true });
  writeFileSync(join(vol, 'level.dat'), `world of ${name}`);
  const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name } });
  assert.equal(created.status, 200, created.text);
  return waitFor(`backup ${name}`, async () => {
    const b = await h.backup(created.body.attributes.uuid);
    return b?.completed_at ? b : null;
  }, 60_000);
}
