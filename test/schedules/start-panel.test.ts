import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { startPanel, type PanelHandle } from '../../src/panel/main.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { waitFor } from '../panel/support/harness.ts';
import { backupSchedule, openFixture, startRecordingDaemon, type RecordingDaemon } from './support.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';

for (const db of (await testDatabaseUrls()).filter((d) => d.name === 'postgres')) {
  describe('the scheduler inside a started panel', () => {
    let url: string;
    let daemon: RecordingDaemon;
    let panel: PanelHandle | undefined;
    before(async () => {
      url = await db.url();
      daemon = await startRecordingDaemon();
    });
    after(async () => {
      await panel?.close();
      await daemon.close();
    });

    it('startPanel runs the tick loop: an overdue schedule fires without anyone calling tick()', async () => {
      // Prepare the database with a schedule that came due while "the panel was down".
      const f = await openFixture(url, { start: '2026-01-01T00:00:00.000Z', backupLimit: 3, daemon });
      await backupSchedule(f, { minute: '0', hour: '1' });
      await f.close();

      panel = await startPanel(loadPanelConfig({ APP_KEY: TEST_APP_KEY, DATABASE_URL: url, PANEL_HOST: '127.0.0.1', PANEL_PORT: '0', PANEL_WEB_DIST: '/nonexistent' }));
      const uuid = await waitFor('the scheduled backup to reach the daemon', async () => daemon.creates()[0], 15_000);
      const row = await panel.context.repos.backups.findLiveByUuid(uuid);
      assert.ok(row, 'the backup row exists');
      assert.match(row.name, /^Backup at /);
      const activity = await panel.context.repos.activity.listByEvent('server:schedule.execute');
      assert.equal(activity.length, 1);
      await panel.close();
      panel = undefined;
      assert.equal(daemon.creates().length, 1, 'fired once (catch-up), not once per missed day');
    });
  });
}
