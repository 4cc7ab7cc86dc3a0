/** Shared by the destination suites: put a file on a server's volume, back it up, wait until it ends; wait for its copy. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, type Harness } from '../panel/support/harness.ts';
import type { BackupRow, ServerRow } from '../../src/panel/db/schema.ts';
import type { BackupCopyRow } from '../../src/panel/db/destinations.schema.ts';

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

/** A backup's first copy once it has finished (done or failed). */
export async function finishedCopy(h: Harness, backupId: number, timeoutMs = 30_000): Promise<BackupCopyRow> {
  return waitFor('the copy', async () => {
    const [c] = await h.ctx.repos.destinations.copiesOf([backupId]);
    return c && (c.status === 'done' || c.status === 'failed') ? c : null;
  }, timeoutMs);
}
