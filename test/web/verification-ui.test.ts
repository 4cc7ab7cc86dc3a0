/**
 * The Verify action and the verification line on the Backups page in a real Chromium against the
 * real stack (`backwing up`): a fresh backup shows "Verified …" (read back before it was reported),
 * Verify says it is good, then the archive is damaged on disk and Verify shows the Damaged badge
 * and the reason — and the backup is still there. The storage quota set on the admin's "Backup limits"
 * page shows as "… of 10 GiB" beside the count on the user's page; node default ignore patterns set with
 * `backwing admin node ignore` and game type (egg) ones set with `backwing admin egg set` / `server egg`
 * show in the create dialog and with the backup. Screenshots: test-artifacts/web/verification.png, backup-limits.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { backwing, clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';
import { unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };

let stack: Stack;
let browser: Browser;
let page: Page;

describe('web UI: verify a backup (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    stack = await startStack();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  test('Verify: good, then damaged with the reason; the backup stays', async () => {
    // Node defaults set by the admin CLI: shown in the create dialog and with the backup.
    await backwing(['admin', 'node', 'ignore', stack.node_uuid, '--data', stack.dataDir, '--pattern', '*.tmp']);
    // A game type with its own defaults, given to the server (egg 7, as the upstream panel numbers it).
    const egg = JSON.parse(await backwing(['admin', 'egg', 'set', '7', '--name', 'ARK', '--nest', '3', '--pattern', '*.dmp', '--data', stack.dataDir, '--json'])) as { id: number; backup_ignore: string };
    assert.deepEqual(egg, { id: 7, nest: 3, name: 'ARK', backup_ignore: '*.dmp' });
    await backwing(['admin', 'server', 'egg', stack.server_identifier, '7', '--data', stack.dataDir]);
    const created = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name: 'to verify' });
    assert.equal(created.status, 200);
    const uuid = created.json.attributes.uuid;
    for (let i = 0; ; i++) {
      const r = await clientApi<{ attributes: { completed_at: string | null; is_successful: boolean } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${uuid}`);
      if (r.json.attributes.completed_at !== null) {
        assert.equal(r.json.attributes.is_successful, true);
        break;
      }
      assert.ok(i < 200, 'backup did not complete');
      await new Promise((r) => setTimeout(r, 300));
    }

    // The storage quota, set on the admin's Backup limits page, is shown to the user beside the count.
    await page.goto(new URL('/admin/backup-limits', stack.panel_url).href);
    await page.getByLabel('Email').fill(stack.admin_email);
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const limits = page.locator(`li[data-identifier="${stack.server_identifier}"]`);
    const quota = limits.getByLabel(/^Storage quota of /);
    await quota.waitFor(WAIT);
    assert.equal(await limits.getByLabel(/^Game type of /).inputValue(), '7', 'the egg set by the CLI');
    assert.equal(await page.getByLabel(/^Always ignored on node /).inputValue(), '*.tmp');
    assert.equal(await page.getByLabel(/^Always ignored for ARK /).inputValue(), '*.dmp');
    await quota.fill('10');
    await limits.getByRole('button', { name: /^Save limits of / }).click();
    await page.getByRole('status').getByText(/limits saved\.$/).waitFor(WAIT);
    assert.equal(await quota.inputValue(), '10');
    assert.deepEqual(await unnamedControls(page), []);
    await page.screenshot({ path: shot('backup-limits'), fullPage: true });
    await page.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
    const row = page.getByRole('listitem', { name: 'Backup to verify', exact: true });
    await row.getByTestId('verification').getByText(/^Verified /).waitFor(WAIT);
    assert.equal(await row.getByTestId('verification').getAttribute('data-verification'), 'good');

    assert.equal(await row.getByTestId('ignore-defaults').innerText(), 'node defaults: *.tmp');
    assert.equal(await row.getByTestId('ignore-egg-defaults').innerText(), '; game type defaults: *.dmp');
    await page.getByRole('button', { name: 'Create backup' }).click();
    await page.getByTestId('node-defaults').getByText('*.tmp').waitFor(WAIT);
    await page.getByTestId('egg-defaults').getByText('*.dmp').waitFor(WAIT);
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.match(await page.getByTestId('backup-count').innerText(), /^1 of \d+ backups · [\d.]+ (KiB|MiB) of 10 GiB$/);
    await row.getByRole('button', { name: 'Verify to verify' }).click();
    await page.getByRole('status').getByText('to verify is good.').waitFor(WAIT);

    const archive = join(stack.dataDir, 'backups', `${uuid}.tar.gz`);
    const buf = await readFile(archive);
    // The last member's CRC: whatever the archive's size, reading it back finds this.
    buf[buf.length - 6] ^= 0xff;
    await writeFile(archive, buf);
    await row.getByRole('button', { name: 'Verify to verify' }).click();
    await row.getByTestId('damaged').waitFor(WAIT);
    const note = row.getByTestId('verification');
    assert.equal(await note.getAttribute('data-verification'), 'damaged');
    assert.match(await note.innerText(), /Damaged \(found .*\): (CRC|length) mismatch.*It is kept until you delete it\./);
    await page.getByRole('alert').getByText(/to verify is damaged: /).waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    await page.screenshot({ path: shot('verification'), fullPage: true });

    // Still listed after a reload: damaged is a mark, never a deletion.
    await page.reload();
    await row.getByTestId('damaged').waitFor(WAIT);
  });
});
