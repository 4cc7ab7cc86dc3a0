/**
 * The backup file browser (issue 14) in a real Chromium against the real stack: open it from the
 * row's Browse button, walk folders by breadcrumbs, search by keyboard, download one file, restore
 * one selected file, all at desktop and at 390 px. Screenshots: test-artifacts/web/browse-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';
import { lowContrastTexts, unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };

let stack: Stack;
let browser: Browser;
let page: Page;

describe('web UI: browse a backup (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    stack = await startStack();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
    const r = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name: 'browsable' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const b = await clientApi<{ attributes: { completed_at: string | null } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${r.json.attributes.uuid}`);
      if (b.json.attributes.completed_at) break;
      if (Date.now() > deadline) throw new Error(`backup did not finish: ${stack.stderr()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  test('folders, breadcrumbs, search, download one file and restore a selection', async () => {
    await page.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
    await page.getByLabel('Email').fill(stack.admin_email);
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Browse files of browsable' }).click();
    const dlg = page.getByTestId('backup-browser');
    await dlg.getByRole('button', { name: 'Open folder world' }).click();
    await dlg.getByRole('button', { name: 'Open folder world/region' }).click();
    const row = dlg.locator('li[data-path="world/region/r.0.0.mca"]');
    await row.getByText('512.00 KiB').waitFor(WAIT);
    await dlg.getByRole('navigation', { name: 'Folder' }).getByText('region').waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    assert.deepEqual(await lowContrastTexts(page), []);
    await page.screenshot({ path: shot('browse-1-folder') });

    // Download one file: the browser receives exactly its bytes.
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download world/region/r.0.0.mca' }).click()]);
    const saved = await readFile((await download.path())!);
    assert.ok(saved.equals(await readFile(join(stack.serverDir, 'world/region/r.0.0.mca'))), 'the downloaded file is the one in the backup');

    // Breadcrumb back to the top, then search by keyboard only.
    await dlg.getByRole('navigation', { name: 'Folder' }).getByRole('button', { name: 'Backup' }).click();
    await dlg.getByRole('button', { name: 'Open folder world' }).waitFor(WAIT);
    await dlg.getByLabel('Search file names').focus();
    await page.keyboard.type('server.prop*');
    await page.keyboard.press('Enter');
    const hit = dlg.locator('li[data-path="server.properties"]');
    await hit.waitFor(WAIT);
    await hit.getByLabel('Select server.properties').focus();
    await page.keyboard.press('Space');
    await dlg.getByText('1 selected').waitFor(WAIT);

    const props = join(stack.serverDir, 'server.properties');
    const original = await readFile(props, 'utf8');
    await writeFile(props, 'broken\n');
    const past = new Date(Date.now() - 86_400_000);
    await utimes(props, past, past);
    await dlg.getByRole('button', { name: 'Restore selected' }).click();
    await dlg.getByText(/nothing else is deleted or changed/).waitFor(WAIT);
    await page.screenshot({ path: shot('browse-2-restore-confirm') });
    await dlg.getByRole('button', { name: 'Restore now' }).click();
    const deadline = Date.now() + 60_000;
    while ((await readFile(props, 'utf8')) !== original) {
      if (Date.now() > deadline) throw new Error('server.properties was not restored');
      await new Promise((res) => setTimeout(res, 200));
    }
    await page.getByRole('button', { name: 'Browse files of browsable' }).waitFor(WAIT);
  });

  test('compare with a later backup: the added file is listed, by keyboard', async () => {
    await writeFile(join(stack.serverDir, 'compare-me.txt'), 'new since the first backup\n');
    const r = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name: 'later' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const b = await clientApi<{ attributes: { completed_at: string | null } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${r.json.attributes.uuid}`);
      if (b.json.attributes.completed_at) break;
      if (Date.now() > deadline) throw new Error('second backup did not finish');
      await new Promise((res) => setTimeout(res, 200));
    }
    await page.reload();
    await page.getByRole('button', { name: 'Browse files of browsable' }).click();
    const dlg = page.getByTestId('backup-browser');
    await dlg.getByRole('button', { name: 'Compare' }).first().click();
    await dlg.getByLabel('Compare with').selectOption({ label: 'later' });
    await dlg.getByLabel('Compare with').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await dlg.getByTestId('compare-summary').getByText(/1 added, 0 removed/).waitFor(WAIT);
    await dlg.locator('li[data-path="compare-me.txt"]').waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    await page.screenshot({ path: shot('browse-4-compare') });
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached', ...WAIT });
  });

  test('at phone width (390 px) the browser fits without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Browse files of browsable' }).click();
    const dlg = page.getByTestId('backup-browser');
    await dlg.getByRole('button', { name: 'Open folder world' }).click();
    await dlg.getByRole('button', { name: 'Open folder world/region' }).click();
    await dlg.locator('li[data-path="world/region/r.0.0.mca"]').getByText('512.00 KiB').waitFor(WAIT);
    const overflow = await dlg.evaluate((el) => el.scrollWidth - el.clientWidth);
    assert.ok(overflow <= 1, `the browser scrolls sideways by ${overflow}px`);
    const docOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(docOverflow <= 1, `the page scrolls sideways by ${docOverflow}px`);
    assert.deepEqual(await unnamedControls(page), []);
    await page.screenshot({ path: shot('browse-3-phone'), fullPage: true });
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached', ...WAIT });
  });
});
