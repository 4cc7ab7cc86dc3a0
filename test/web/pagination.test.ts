/** More backups than one page holds: the Backups page pages through them like upstream (20 a page). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { backwing, clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';

let stack: Stack;
let browser: Browser;

before(async () => {
  await ensureWebBuilt();
  // The creation throttle (2 per 10 minutes) would make 22 backups take an hour.
  stack = await startStack({ BACKUP_THROTTLE_PERIOD: '0' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
});

test('22 backups: page 1 shows 20, Next shows the other 2, the count covers all', { timeout: 240_000 }, async () => {
  const out = await backwing(['admin', 'server', 'create', '--data', stack.dataDir, '--name', 'Busy server',
    '--owner', stack.admin_email, '--node', stack.node_uuid, '--backup-limit', '25', '--json']);
  const server = JSON.parse(out.trim().split('\n').pop()!) as { identifier: string };
  for (let i = 1; i <= 22; i++) {
    const r = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${server.identifier}/backups`,
      { name: `Nightly ${String(i).padStart(2, '0')}` });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    for (let tries = 0; ; tries++) {
      const b = await clientApi<{ attributes: { completed_at: string | null } }>(stack, 'GET',
        `/api/client/servers/${server.identifier}/backups/${r.json.attributes.uuid}`);
      if (b.json.attributes.completed_at !== null) break;
      assert.ok(tries < 200, 'backup did not finish');
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await ctx.newPage();
    await page.goto(new URL(`/server/${server.identifier}/backups`, stack.panel_url).href);
    await page.getByLabel('Email').fill(stack.admin_email);
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const rows = page.getByRole('list', { name: 'Backups' }).getByRole('listitem');
    await page.getByText('Page 1 of 2').waitFor({ timeout: 30_000 });
    assert.equal(await rows.count(), 20);
    assert.equal((await page.getByTestId('backup-count').innerText()).trim(), '22 of 25 backups');
    const pager = page.getByRole('navigation', { name: 'Pages' });
    assert.equal(await pager.getByRole('button', { name: 'Previous' }).isDisabled(), true);
    await page.screenshot({ path: shot('21-page-1'), fullPage: true });
    const nameOf = async () => (await rows.locator('.backup-name').allInnerTexts()).map((t) => t.trim());
    const page1 = await nameOf();

    await pager.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 2').waitFor({ timeout: 30_000 });
    assert.equal(await rows.count(), 2);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Next', 'keyboard focus stays on the pager');
    assert.equal(await pager.getByRole('button', { name: 'Next' }).isDisabled(), true);
    const all = new Set([...page1, ...(await nameOf())]);
    assert.equal(all.size, 22, 'the two pages together show every backup once');
    await page.screenshot({ path: shot('22-page-2') });

    await pager.getByRole('button', { name: 'Previous' }).click();
    await page.getByText('Page 1 of 2').waitFor({ timeout: 30_000 });
    assert.equal(await rows.count(), 20);
  } finally {
    await ctx.close();
  }
});
