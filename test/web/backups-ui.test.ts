/**
 * The Backups page in a real Chromium against the real stack (`backwing up`): sign in, create a
 * backup and watch it finish over the daemon's websocket, download it, lock it and be refused on
 * delete, restore with truncate and see the files on disk replaced, delete it; then a subuser
 * without backup.delete, the limit messages, and phone width. Screenshots: test-artifacts/web/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, writeFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { backwing, clientApi, startStack, type Stack } from './support/stack.ts';
import { ARTIFACTS, launchChromium, shot } from './support/browser.ts';
import { unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };

interface Frame { event: string; args?: string[] }

let stack: Stack;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const frames: Frame[] = [];
const pageErrors: string[] = [];

async function signIn(p: Page, email: string, password: string): Promise<void> {
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

function row(p: Page, name: string) {
  return p.getByRole('listitem', { name: `Backup ${name}`, exact: true });
}

async function waitForBackupViaApi(uuid: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await clientApi<{ attributes: { completed_at: string | null; is_successful: boolean } }>(
      stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${uuid}`);
    if (r.json.attributes.completed_at !== null) {
      assert.equal(r.json.attributes.is_successful, true, 'setup backup failed');
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`backup ${uuid} did not complete within 60 s`);
}

describe('web UI: Backups page end to end (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    stack = await startStack();
    // Enough incompressible data that the backup runs long enough to report progress.
    await writeFile(join(stack.serverDir, 'world', 'region.bin'), randomBytes(48 * 1024 * 1024));
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => {
        if (typeof f.payload !== 'string') return;
        try { frames.push(JSON.parse(f.payload) as Frame); } catch { /* not ours */ }
      });
    });
  });

  after(async () => {
    await ctx?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  test('sign-in refuses a wrong password in words, then signs in', async () => {
    await page.goto(stack.panel_url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(WAIT);
    await page.screenshot({ path: shot('01-sign-in') });
    await signIn(page, stack.admin_email, 'definitely-wrong');
    const alert = page.getByRole('alert');
    await alert.waitFor(WAIT);
    assert.ok((await alert.innerText()).trim().length > 10, 'the refusal is a sentence, not a blank box');
    await page.screenshot({ path: shot('02-sign-in-refused') });
    await signIn(page, stack.admin_email, stack.adminPassword);
    await page.getByRole('heading', { name: 'Your servers' }).waitFor(WAIT);
    const cookies = await ctx.cookies(stack.panel_url);
    assert.ok(cookies.find((c) => c.name === 'backwing_session')?.httpOnly, 'session cookie is HttpOnly');
  });

  test('server list leads to the Backups page, which goes live on the websocket', async () => {
    const link = page.getByRole('link', { name: /Demo server/ });
    await link.waitFor(WAIT);
    await page.screenshot({ path: shot('03-servers') });
    await link.click();
    await page.getByRole('heading', { name: 'Backups', level: 1 }).waitFor(WAIT);
    assert.match(page.url(), new RegExp(`/server/${stack.server_identifier}/backups$`));
    await page.locator('[data-socket="live"]').waitFor(WAIT);
    assert.ok(frames.some((f) => f.event === 'auth success'), 'the daemon accepted the panel-issued token');
    await page.getByTestId('backup-count').waitFor(WAIT);
    assert.equal((await page.getByTestId('backup-count').innerText()).trim(), '0 of 10 backups');
    await page.getByText('There are no backups for this server yet.').waitFor(WAIT);
  });

  test('create dialog: labelled, seed examples as hints, Locked switch for the owner', async () => {
    await page.getByRole('button', { name: 'Create backup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create server backup' });
    await dialog.waitFor(WAIT);
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('name'));
    assert.equal(focused, 'name', 'focus moves into the dialog');
    const placeholder = await dialog.getByLabel('Ignored files & directories').getAttribute('placeholder');
    for (const example of ['*.log', 'node_modules/', 'cache/', 'crash-reports/', '*.jar.old']) {
      assert.ok(placeholder?.split('\n').includes(example), `placeholder shows ${example}`);
    }
    assert.equal(await dialog.getByRole('switch', { name: 'Locked' }).count(), 1);
    assert.deepEqual(await unnamedControls(page), [], 'every control in the dialog has a name');
    await dialog.getByLabel('Backup name').fill('UI backup one');
    await dialog.getByLabel('Ignored files & directories').fill('*.log\ncache/');
    await page.screenshot({ path: shot('04-create-dialog') });
  });

  test('the backup runs with live progress and completes without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
      const w = window as unknown as { __sawProgress: boolean };
      w.__sawProgress = false;
      new MutationObserver(() => {
        if (document.querySelector('li[data-state="running"] [role="progressbar"]')) w.__sawProgress = true;
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByRole('dialog').getByRole('button', { name: 'Start backup' }).click();
    const r = row(page, 'UI backup one');
    await r.waitFor(WAIT);
    try {
      await page.locator('li[data-state="running"] [role="progressbar"]').waitFor({ timeout: 5_000 });
      await page.screenshot({ path: shot('05-backup-running') });
    } catch { /* a fast machine may finish first; the frames below still prove the live path */ }
    await page.locator('li[data-state="completed"]', { hasText: 'UI backup one' }).waitFor({ timeout: 120_000 });
    const uuid = await r.getAttribute('data-uuid');
    assert.ok(uuid);
    assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), true, 'no reload happened');
    assert.ok(await page.evaluate(() => (window as unknown as { __sawProgress: boolean }).__sawProgress), 'a running row with a progress bar was shown');
    assert.ok(frames.some((f) => f.event === 'backup progress' && JSON.parse(f.args![0]!).uuid === uuid), 'progress came over the websocket');
    assert.ok(frames.some((f) => f.event.startsWith('backup completed') && JSON.parse(f.args![0]!).uuid === uuid), 'completion came over the websocket');
    const checksum = (await r.locator('.backup-checksum').innerText()).trim();
    assert.match(checksum, /^sha256:[0-9a-f]{64}$/);
    assert.match(await r.innerText(), /\d+\.\d\d MiB/);
    const time = r.locator('time');
    assert.match(await time.innerText(), /just now|seconds? ago|minutes? ago/);
    assert.match((await time.getAttribute('title')) ?? '', /\d{4}/, 'the exact date is in the title');
    assert.equal((await page.getByTestId('backup-count').innerText()).trim(), '1 of 10 backups');
    assert.deepEqual(await unnamedControls(page), [], 'every control on the page has a name');
    await page.screenshot({ path: shot('06-backup-completed') });
  });

  test('download navigates to the signed URL and yields a valid .tar.gz', async () => {
    const r = row(page, 'UI backup one');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      r.getByRole('button', { name: 'Download UI backup one' }).click(),
    ]);
    const file = join(ARTIFACTS, 'ui-backup-one.tar.gz');
    await download.saveAs(file);
    assert.equal(await download.failure(), null);
    const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
    assert.ok(listing.some((l) => l.replace(/^\.\//, '') === 'server.properties'), `server.properties in ${listing.join(', ')}`);
    assert.ok(listing.some((l) => l.endsWith('region.bin')));
    assert.ok(!listing.some((l) => l.endsWith('.log')), 'the *.log pattern from the dialog was honoured');
    const checksum = (await r.locator('.backup-checksum').innerText()).trim();
    const sha = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(checksum, `sha256:${sha}`, 'the checksum shown is the downloaded file\'s');
  });

  test('lock it: the lock icon shows and Delete explains "unlock it first" before any click', async () => {
    const r = row(page, 'UI backup one');
    await r.getByRole('button', { name: 'Lock UI backup one' }).click();
    await page.locator('li[data-locked="true"]', { hasText: 'UI backup one' }).waitFor(WAIT);
    await r.getByText('Locked', { exact: true }).waitFor(WAIT);
    await page.screenshot({ path: shot('07-locked') });
    const del = r.getByRole('button', { name: 'Delete UI backup one' });
    assert.equal(await del.getAttribute('aria-disabled'), 'true');
    // The reason is the button's description (screen readers read it on focus) and its tooltip.
    const describedBy = await del.getAttribute('aria-describedby');
    assert.match(await page.locator(`#${describedBy}`).innerText(), /unlock it first/);
    assert.match((await del.getAttribute('title')) ?? '', /unlock it first/);
    // Focus + Enter: Playwright's click() waits for aria-disabled to clear; a user's press does not.
    await del.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'unlock it first' }).waitFor(WAIT);
    assert.equal(await page.getByRole('dialog').count(), 0, 'no confirmation that would only be refused');
    await page.screenshot({ path: shot('08-delete-blocked') });
    assert.equal(await row(page, 'UI backup one').count(), 1, 'the locked backup is still there');
    // Unlock (confirmation, as upstream) so it can be deleted at the end.
    await r.getByRole('button', { name: 'Unlock UI backup one' }).click();
    const unlock = page.getByRole('dialog', { name: 'Unlock "UI backup one"' });
    await unlock.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('li[data-locked="false"]', { hasText: 'UI backup one' }).waitFor(WAIT);
  });

  test('restore with "Delete all files" replaces the server\'s files on disk', async () => {
    const dir = stack.serverDir;
    const original = await readFile(join(dir, 'server.properties'), 'utf8');
    await writeFile(join(dir, 'server.properties'), 'motd=changed after the backup\n');
    await writeFile(join(dir, 'added-after-backup.txt'), 'should vanish with truncate');
    assert.ok(existsSync(join(dir, 'logs', 'latest.log')), 'the sample server has a log the backup ignored');

    // A second tab stands for another user watching the same server.
    const watcher = await ctx.newPage();
    await watcher.goto(page.url());
    await watcher.locator('[data-socket="live"]').waitFor(WAIT);

    await row(page, 'UI backup one').getByRole('button', { name: 'Restore UI backup one' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore "UI backup one"' });
    await dialog.waitFor(WAIT);
    await dialog.getByRole('checkbox', { name: 'Delete all files before restoring backup' }).check();
    assert.deepEqual(await unnamedControls(page), []);
    await page.screenshot({ path: shot('09-restore-confirm') });
    await dialog.getByRole('button', { name: 'Restore' }).click();
    const restoring = page.getByTestId('restoring');
    await restoring.waitFor(WAIT);
    await page.screenshot({ path: shot('10-restoring') });
    await restoring.waitFor({ state: 'detached', timeout: 120_000 });
    await page.getByText('The restore finished').waitFor(WAIT);
    assert.ok(frames.some((f) => f.event === 'backup restore completed'), 'restore end came over the websocket');
    await row(page, 'UI backup one').waitFor(WAIT);
    await page.screenshot({ path: shot('11-restored') });
    await watcher.getByText('The restore finished').waitFor(WAIT);
    await row(watcher, 'UI backup one').waitFor(WAIT);
    await watcher.close();

    assert.equal(await readFile(join(dir, 'server.properties'), 'utf8'), original);
    assert.equal(existsSync(join(dir, 'added-after-backup.txt')), false, 'truncate removed the new file');
    assert.equal(existsSync(join(dir, 'logs', 'latest.log')), false, 'truncate removed the file the backup left out');
    assert.equal((await stat(join(dir, 'world', 'region.bin'))).size, 48 * 1024 * 1024);
    const server = await clientApi<{ attributes: { status: string | null } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}`);
    assert.equal(server.json.attributes.status, null);
  });

  test('delete asks first, then removes the backup', async () => {
    await row(page, 'UI backup one').getByRole('button', { name: 'Delete UI backup one' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete "UI backup one"' });
    await dialog.getByText('cannot be recovered').waitFor(WAIT);
    await dialog.getByRole('button', { name: 'Delete backup' }).click();
    await row(page, 'UI backup one').waitFor({ state: 'detached', ...WAIT });
    assert.equal((await page.getByTestId('backup-count').innerText()).trim(), '0 of 10 backups');
    const list = await clientApi<{ data: unknown[] }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups`);
    assert.equal(list.json.data.length, 0);
    const backupsLeft = await readdir(join(stack.dataDir, 'backups'), { recursive: true });
    assert.ok(!backupsLeft.some((f) => String(f).endsWith('.tar.gz')), 'the archive file is gone from the node');
    const activity = page.locator('details', { hasText: 'Backup activity' });
    await activity.locator('summary').click();
    for (const sentence of ['Started backup "UI backup one".', 'Locked backup "UI backup one".',
      'Started restoring backup "UI backup one", deleting all files first.', 'Deleted backup "UI backup one".']) {
      // Each sentence names who did it: the signed-in admin, not an anonymous "someone".
      await activity.locator('li', { hasText: sentence }).filter({ hasText: '— admin' }).first().waitFor(WAIT);
    }
    await page.screenshot({ path: shot('12-deleted') });
  });

  test('a subuser without backup.delete sees no delete, no lock and no Locked switch', async () => {
    const created = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST',
      `/api/client/servers/${stack.server_identifier}/backups`, { name: 'Owner made this' });
    assert.equal(created.status, 200);
    await waitForBackupViaApi(created.json.attributes.uuid);

    const email = 'helper@backwing.local';
    const password = 'subuser-password-123';
    await backwing(['admin', 'user', 'create', '--data', stack.dataDir, '--email', email, '--password', password]);
    const sub = await clientApi(stack, 'POST', `/api/client/servers/${stack.server_identifier}/users`, {
      email,
      permissions: ['websocket.connect', 'backup.read', 'backup.create', 'backup.download', 'backup.restore'],
    });
    assert.equal(sub.status, 200, JSON.stringify(sub.json));

    const subCtx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const p = await subCtx.newPage();
      await p.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
      await signIn(p, email, password);
      const r = row(p, 'Owner made this');
      await r.waitFor(WAIT);
      await r.getByRole('button', { name: 'Download Owner made this' }).waitFor(WAIT);
      assert.equal(await r.getByRole('button', { name: 'Restore Owner made this' }).count(), 1);
      assert.equal(await r.getByRole('button', { name: 'Delete Owner made this' }).count(), 0);
      assert.equal(await r.getByRole('button', { name: 'Lock Owner made this' }).count(), 0);
      await p.screenshot({ path: shot('13-subuser') });
      await p.getByRole('button', { name: 'Create backup' }).click();
      const dialog = p.getByRole('dialog', { name: 'Create server backup' });
      await dialog.waitFor(WAIT);
      assert.equal(await dialog.getByRole('switch').count(), 0, 'no Locked switch without backup.delete');
      await p.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached', ...WAIT });
      const focused = await p.evaluate(() => document.activeElement?.textContent?.trim());
      assert.equal(focused, 'Create backup', 'Escape closes the dialog and focus returns to the button that opened it');
    } finally {
      await subCtx.close();
    }
  });

  test('a read-only subuser sees the list and no actions but Verify; a refused websocket token means polling, not retrying', async () => {
    const email = 'reader@backwing.local';
    const password = 'reader-password-123';
    await backwing(['admin', 'user', 'create', '--data', stack.dataDir, '--email', email, '--password', password]);
    const sub = await clientApi(stack, 'POST', `/api/client/servers/${stack.server_identifier}/users`, { email, permissions: ['backup.read'] });
    assert.equal(sub.status, 200, JSON.stringify(sub.json));
    const c = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      // The panel gives every subuser websocket.connect (as upstream does), so its refusal is
      // played here: the same answer a server without that permission would get.
      let tokenRequests = 0;
      await c.route(/\/api\/client\/servers\/[^/]+\/websocket$/, (route) => {
        tokenRequests += 1;
        void route.fulfill({ status: 403, contentType: 'application/json',
          body: JSON.stringify({ errors: [{ code: 'AccessDeniedHttpException', status: '403', detail: 'This action is unauthorized.' }] }) });
      });
      const p = await c.newPage();
      await p.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
      await signIn(p, email, password);
      const r = row(p, 'Owner made this');
      await r.waitFor(WAIT);
      await p.locator('[data-socket="offline"]').waitFor(WAIT);
      // Verify (backwing, issue 17) only reads the backup back, which backup.read allows; nothing else.
      assert.deepEqual(await r.getByRole('button').allInnerTexts(), ['Verify'], 'no action but Verify with backup.read only');
      assert.equal(await p.getByRole('button', { name: 'Create backup' }).count(), 0);
      // The panel said 403: asking again every few seconds would only add noise.
      await p.waitForTimeout(3500);
      assert.equal(tokenRequests, 1, 'the websocket token is not requested again after a 403');
      await p.screenshot({ path: shot('13b-read-only') });
    } finally {
      await c.close();
    }
  });

  test('the create dialog shows the panel\'s throttle refusal in words and keeps the form', async () => {
    // Two backups were made on the demo server within the last minutes: the panel's default
    // throttle (2 per 600 s) refuses a third with 429.
    await page.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
    await page.getByRole('button', { name: 'Create backup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create server backup' });
    await dialog.getByLabel('Backup name').fill('One too many');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor(WAIT);
    assert.match(await alert.innerText(), /Only 2 backups may be generated within a 600 second span of time/);
    assert.equal(await dialog.getByLabel('Backup name').inputValue(), 'One too many', 'what the user typed is kept');
    await page.screenshot({ path: shot('14-create-throttled') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    assert.equal(await row(page, 'One too many').count(), 0);
  });

  test('limit messages: reached, and disabled when the limit is 0', async () => {
    const out = await backwing(['admin', 'server', 'create', '--data', stack.dataDir, '--name', 'No backups here',
      '--owner', stack.admin_email, '--node', stack.node_uuid, '--backup-limit', '0', '--json']);
    const noBackups = JSON.parse(out.trim().split('\n').pop()!) as { identifier: string };
    await page.goto(new URL(`/server/${noBackups.identifier}/backups`, stack.panel_url).href);
    await page.getByTestId('limit-disabled').waitFor(WAIT);
    assert.match(await page.getByTestId('limit-disabled').innerText(), /backup limit is set to 0/);
    assert.equal(await page.getByRole('button', { name: 'Create backup' }).count(), 0);
    await page.screenshot({ path: shot('15-limit-zero') });

    const out1 = await backwing(['admin', 'server', 'create', '--data', stack.dataDir, '--name', 'One slot',
      '--owner', stack.admin_email, '--node', stack.node_uuid, '--backup-limit', '1', '--json']);
    const oneSlot = JSON.parse(out1.trim().split('\n').pop()!) as { identifier: string };
    const b = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${oneSlot.identifier}/backups`, { name: 'Only one' });
    assert.equal(b.status, 200, JSON.stringify(b.json));
    await page.goto(new URL(`/server/${oneSlot.identifier}/backups`, stack.panel_url).href);
    await page.getByTestId('limit-reached').waitFor(WAIT);
    assert.match(await page.getByTestId('limit-reached').innerText(), /reached its limit of 1 backup/);
    assert.equal((await page.getByTestId('backup-count').innerText()).trim(), '1 of 1 backups');
    assert.equal(await page.getByRole('button', { name: 'Create backup' }).count(), 0);
    await page.screenshot({ path: shot('16-limit-reached') });
  });

  test('phone width (375 px): nothing overflows and actions stay reachable', async () => {
    // Dark scheme on the phone, so one run shows both palettes.
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    try {
      const p = await phone.newPage();
      await p.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
      await signIn(p, stack.admin_email, stack.adminPassword);
      const r = row(p, 'Owner made this');
      await r.waitFor(WAIT);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      for (const name of ['Download', 'Restore', 'Lock', 'Delete']) {
        const box = await r.getByRole('button', { name: `${name} Owner made this` }).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${name} is on screen`);
      }
      await p.screenshot({ path: shot('17-phone-list'), fullPage: true });
      await p.getByRole('button', { name: 'Create backup' }).click();
      await p.getByRole('dialog', { name: 'Create server backup' }).waitFor(WAIT);
      await p.screenshot({ path: shot('18-phone-create') });
    } finally {
      await phone.close();
    }
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });

  test('token expiring: the page fetches a new token and authenticates again; jwt error: it reconnects', async () => {
    const c = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const fromPage: Frame[] = [];
      const pageSides: Array<{ send: (m: string) => void }> = [];
      // Sit between page and daemon: forward both ways, record what the page sends, and let the
      // test speak as the daemon.
      await c.routeWebSocket(/\/ws$/, (ws) => {
        const server = ws.connectToServer();
        pageSides.push(ws);
        ws.onMessage((m) => {
          if (typeof m === 'string') fromPage.push(JSON.parse(m) as Frame);
          server.send(m);
        });
        server.onMessage((m) => ws.send(m));
      });
      const p = await c.newPage();
      await p.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
      await signIn(p, stack.admin_email, stack.adminPassword);
      await p.locator('[data-socket="live"]').waitFor(WAIT);
      const auths = () => fromPage.filter((f) => f.event === 'auth').map((f) => f.args?.[0]);
      assert.equal(auths().length, 1);

      pageSides.at(-1)!.send(JSON.stringify({ event: 'token expiring', args: [] }));
      for (let i = 0; i < 100 && auths().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(auths().length, 2, 'a second auth frame was sent');
      assert.notEqual(auths()[1], undefined);
      assert.equal(await p.locator('[data-socket="live"]').count(), 1, 'still live after re-auth');

      pageSides.at(-1)!.send(JSON.stringify({ event: 'jwt error', args: ['token is not valid'] }));
      await p.locator('[data-socket="offline"]').waitFor(WAIT);
      await p.locator('[data-socket="live"]').waitFor(WAIT);
      assert.ok(pageSides.length >= 2, 'a new socket was opened');
      assert.ok(auths().length >= 3, 'and authenticated with a fresh token');
    } finally {
      await c.close();
    }
  });

  test('a backup that fails shows a Failed badge live, does not count, and can only be deleted', async () => {
    const out = await backwing(['admin', 'server', 'create', '--data', stack.dataDir, '--name', 'Broken disk',
      '--owner', stack.admin_email, '--node', stack.node_uuid, '--backup-limit', '2', '--json']);
    const broken = JSON.parse(out.trim().split('\n').pop()!) as { identifier: string; uuid: string };
    await page.goto(new URL(`/server/${broken.identifier}/backups`, stack.panel_url).href);
    await page.locator('[data-socket="live"]').waitFor(WAIT);
    // With its directory gone the daemon cannot archive the server: a genuine failure.
    await rm(join(stack.dataDir, 'volumes', broken.uuid), { recursive: true, force: true });
    await page.getByRole('button', { name: 'Create backup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create server backup' });
    await dialog.getByLabel('Backup name').fill('Doomed');
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    const r = page.locator('li[data-state="failed"]', { hasText: 'Doomed' });
    await r.waitFor({ timeout: 60_000 });
    const uuid = await r.getAttribute('data-uuid');
    assert.ok(frames.some((f) => f.event.startsWith('backup completed') && JSON.parse(f.args![0]!).uuid === uuid
      && JSON.parse(f.args![0]!).is_successful === false), 'the failure came over the websocket');
    await r.getByText('Failed', { exact: true }).waitFor(WAIT);
    assert.match(await page.getByRole('alert').first().innerText(), /Doomed failed/);
    assert.equal(((await page.locator('.notice').textContent()) ?? '').trim(), '', 'the stale "started" notice is gone');
    // The count comes from the list the page fetches again after the event: wait for it, then check.
    const count = page.getByTestId('backup-count');
    await count.filter({ hasText: /^\s*0 of 2 backups\s*$/ }).waitFor(WAIT).catch(() => undefined);
    assert.equal((await count.innerText()).trim(), '0 of 2 backups', 'failed backups do not count');
    for (const name of ['Download', 'Restore', 'Lock']) {
      assert.equal(await r.getByRole('button', { name: `${name} Doomed` }).count(), 0, `no ${name} on a failed backup`);
    }
    await page.screenshot({ path: shot('20-backup-failed') });
    await r.getByRole('button', { name: 'Delete Doomed' }).click();
    await page.getByRole('dialog', { name: 'Delete "Doomed"' }).getByRole('button', { name: 'Delete backup' }).click();
    await r.waitFor({ state: 'detached', ...WAIT });
  });

  test('sign out ends the session', async () => {
    await page.goto(new URL('/', stack.panel_url).href);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(WAIT);
    const res = await page.request.get(new URL('/api/client/account', stack.panel_url).href, { headers: { Accept: 'application/json' } });
    assert.equal(res.status(), 401);
  });

  test('without the websocket the page polls the panel and still shows the backup finish', async () => {
    // A fresh server: the demo server has used up its creation throttle (2 per 10 minutes) by now.
    const out = await backwing(['admin', 'server', 'create', '--data', stack.dataDir, '--name', 'Polled server',
      '--owner', stack.admin_email, '--node', stack.node_uuid, '--backup-limit', '3', '--json']);
    const polled = JSON.parse(out.trim().split('\n').pop()!) as { identifier: string };
    const blocked = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      // Every socket the page opens is closed at once, as a proxy that drops websockets would.
      await blocked.routeWebSocket(/\/ws$/, (ws) => { void ws.close({ code: 1011, reason: 'blocked by test' }); });
      const p = await blocked.newPage();
      await p.goto(new URL(`/server/${polled.identifier}/backups`, stack.panel_url).href);
      await signIn(p, stack.admin_email, stack.adminPassword);
      await p.locator('[data-socket="offline"]').waitFor(WAIT);
      assert.equal(await p.locator('[data-socket="offline"]').innerText(), 'Polling');
      await p.getByRole('button', { name: 'Create backup' }).click();
      const dialog = p.getByRole('dialog', { name: 'Create server backup' });
      await dialog.getByLabel('Backup name').fill('Polled backup');
      await dialog.getByRole('button', { name: 'Start backup' }).click();
      await dialog.waitFor({ state: 'detached', ...WAIT });
      await p.locator('li[data-state="completed"]', { hasText: 'Polled backup' }).waitFor({ timeout: 120_000 });
      assert.match(await row(p, 'Polled backup').locator('.backup-checksum').innerText(), /^sha256:[0-9a-f]{64}$/);
      await p.getByRole('status').getByText('Polled backup completed.').waitFor(WAIT);
      await p.screenshot({ path: shot('19-polling-fallback') });
    } finally {
      await blocked.close();
    }
  });
});
