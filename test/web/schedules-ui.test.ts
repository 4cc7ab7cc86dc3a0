/**
 * The Schedules tab in a real Chromium against the real stack (`backwing up`): a retention policy
 * previewed against real backups (one locked), a 422 shown next to its field, a schedule with a
 * backup task created through the dialog, run now, its backup appearing on the Backups tab with
 * the policy applied, the schedule deleted; a subuser without backup.delete sees no retention card
 * and no schedule actions; phone width. Screenshots: test-artifacts/web/schedules-*.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { backwing, clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';
import { unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };

let stack: Stack;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** name → uuid of the backups made for the test. */
const made = new Map<string, string>();

const serverPath = (rest: string) => `/api/client/servers/${stack.server_identifier}${rest}`;

async function signIn(p: Page, email: string, password: string): Promise<void> {
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface BackupJson { attributes: { uuid: string; name: string; completed_at: string | null; is_successful: boolean; is_locked: boolean } }

async function makeBackup(name: string): Promise<string> {
  const r = await clientApi<BackupJson>(stack, 'POST', serverPath('/backups'), { name });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const uuid = r.json.attributes.uuid;
  await until(`backup ${name} completes`, async () => {
    const b = await clientApi<BackupJson>(stack, 'GET', serverPath(`/backups/${uuid}`));
    if (b.json.attributes.completed_at === null) return undefined;
    assert.equal(b.json.attributes.is_successful, true, `setup backup ${name} failed`);
    return true;
  });
  made.set(name, uuid);
  return uuid;
}

async function liveBackups(): Promise<BackupJson['attributes'][]> {
  const r = await clientApi<{ data: BackupJson[] }>(stack, 'GET', serverPath('/backups'));
  return r.json.data.map((d) => d.attributes);
}

describe('web UI: schedules and retention (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    // The creation throttle (2 per 10 minutes) would refuse the third setup backup.
    stack = await startStack({ BACKUP_THROTTLE_PERIOD: '0' });
    // Created one after the other so their order is certain; the oldest is locked.
    await makeBackup('Old milestone');
    await makeBackup('Middle');
    await makeBackup('Newest');
    const lock = await clientApi(stack, 'POST', serverPath(`/backups/${made.get('Old milestone')}/lock`));
    assert.equal(lock.status, 200);
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await ctx?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  test('the Schedules tab sits beside Backups and starts empty', async () => {
    await page.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
    await signIn(page, stack.admin_email, stack.adminPassword);
    const tabs = page.getByRole('navigation', { name: 'Server sections' });
    await tabs.getByRole('link', { name: 'Backups' }).waitFor(WAIT);
    assert.equal(await tabs.getByRole('link', { name: 'Backups' }).getAttribute('aria-current'), 'page');
    await tabs.getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor(WAIT);
    assert.match(page.url(), new RegExp(`/server/${stack.server_identifier}/schedules$`));
    await page.getByText('No schedules yet.').waitFor(WAIT);
    await page.getByTestId('retention-card').getByLabel('Keep last').waitFor(WAIT);
    assert.equal(await page.getByTestId('schedules-limit-zero').count(), 0, 'no limit-0 message on a server with a limit');
  });

  test('retention: a value out of range is refused next to its field; the preview lists what would go and why', async () => {
    const card = page.getByTestId('retention-card');
    await card.getByLabel('Daily', { exact: true }).fill('5000');
    await card.getByRole('button', { name: 'Save policy' }).click();
    await card.getByText('The keep daily field must not be greater than 1000.').waitFor(WAIT);
    assert.equal(await card.getByLabel('Daily', { exact: true }).getAttribute('aria-invalid'), 'true');
    await card.getByRole('alert').waitFor(WAIT);
    await page.screenshot({ path: shot('schedules-01-retention-422'), fullPage: true });

    await card.getByLabel('Daily', { exact: true }).fill('');
    await card.getByLabel('Keep last').fill('1');
    await card.getByRole('button', { name: 'Preview' }).click();
    const preview = card.getByRole('region', { name: 'Retention preview' });
    await preview.waitFor(WAIT);
    const removed = preview.getByRole('list', { name: 'Would be deleted (1)' }).getByRole('listitem');
    const kept = preview.getByRole('list', { name: 'Kept (2)' }).getByRole('listitem');
    await removed.first().waitFor(WAIT);
    assert.deepEqual(await removed.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))), ['Middle: not kept by any rule']);
    const keptLabels = await kept.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    assert.deepEqual(keptLabels.sort(), ['Newest: one of the newest (keep last)', 'Old milestone: locked, never deleted automatically']);
    assert.deepEqual(await unnamedControls(page), [], 'every control on the page has a name');
    await page.screenshot({ path: shot('schedules-02-retention-preview'), fullPage: true });

    // A preview deletes nothing and saves nothing.
    assert.equal((await liveBackups()).length, 3);
    const saved = await clientApi<{ attributes: { keep_last: number | null } }>(stack, 'GET', serverPath('/backups/retention'));
    assert.equal(saved.json.attributes.keep_last, null);

    await card.getByRole('button', { name: 'Save policy' }).click();
    await card.getByRole('status').getByText(/Retention policy saved/).waitFor(WAIT);
    const after = await clientApi<{ attributes: Record<string, number | null> }>(stack, 'GET', serverPath('/backups/retention'));
    assert.equal(after.json.attributes.keep_last, 1);
    assert.equal(after.json.attributes.keep_daily, null);
    assert.equal((await liveBackups()).length, 3, 'saving deletes nothing by itself');
  });

  test('create a schedule: presets fill the cron fields, a bad field is refused in words, then it is created with its backup task', async () => {
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create schedule' });
    await dialog.waitFor(WAIT);
    assert.equal(await dialog.getByLabel('When').inputValue(), '2', 'Daily at 02:00 is the default');
    assert.equal(await dialog.getByTestId('cron-words').innerText(), 'Every day at 02:00 UTC');
    await dialog.getByLabel('When').selectOption({ label: 'Weekly on Sunday at 03:00' });
    assert.equal(await dialog.getByLabel('Day of week').inputValue(), '0');
    assert.equal(await dialog.getByLabel('Hour', { exact: true }).inputValue(), '3');
    assert.equal(await dialog.getByTestId('cron-words').innerText(), 'Every Sunday at 03:00 UTC');
    await dialog.getByLabel('When').selectOption({ label: 'Daily at 02:00' });
    assert.deepEqual(await unnamedControls(page), [], 'every control in the dialog has a name');

    await dialog.getByLabel('Schedule name').fill('Nightly');
    await dialog.getByLabel('Minute').fill('75');
    assert.equal(await dialog.getByLabel('When').inputValue(), 'custom');
    await dialog.getByLabel('Ignored files & directories').fill('*.log\ncache/');
    await dialog.getByRole('button', { name: 'Create schedule' }).click();
    const minuteError = dialog.locator('.hint-danger');
    await minuteError.first().waitFor(WAIT);
    assert.equal(await dialog.getByLabel('Minute').getAttribute('aria-invalid'), 'true');
    assert.ok((await minuteError.first().innerText()).length > 10, 'the refusal is a sentence');
    await dialog.getByRole('alert').waitFor(WAIT);
    await page.screenshot({ path: shot('schedules-03-dialog-422') });
    const none = await clientApi<{ data: unknown[] }>(stack, 'GET', serverPath('/schedules'));
    assert.equal(none.json.data.length, 0, 'nothing was created by the refused attempt');

    await dialog.getByLabel('Minute').fill('0');
    await dialog.getByRole('button', { name: 'Create schedule' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });

    const row = page.getByRole('listitem', { name: 'Schedule Nightly' });
    await row.waitFor(WAIT);
    assert.match(await row.innerText(), /Every day at 02:00 UTC/);
    assert.equal(await row.getByText('Active', { exact: true }).count(), 1);
    assert.match(await row.innerText(), /2 ignored patterns/);
    assert.match(await row.innerText(), /never/, 'last run: never');
    const next = row.locator('.backup-size time');
    // Every day at 02:00: from just after 02:00 UTC the next run is over 23 hours away, which reads "in 1 day".
    assert.match(await next.innerText(), /^in (\d+ (hours?|minutes?)|1 day)$/);
    assert.match((await next.getAttribute('title')) ?? '', /\d{4}/, 'exact next run on hover');
    await page.screenshot({ path: shot('schedules-04-created'), fullPage: true });

    const list = await clientApi<{ data: Array<{ attributes: { name: string; is_active: boolean; cron: Record<string, string>; next_run_at: string | null;
      relationships: { tasks: { data: Array<{ attributes: { action: string; payload: string; time_offset: number } }> } } } }> }>(
      stack, 'GET', serverPath('/schedules'));
    assert.equal(list.json.data.length, 1);
    const s = list.json.data[0]!.attributes;
    assert.equal(s.name, 'Nightly');
    assert.equal(s.is_active, true);
    assert.deepEqual(s.cron, { minute: '0', hour: '2', day_of_month: '*', month: '*', day_of_week: '*' });
    assert.equal(new Date(s.next_run_at!).getUTCHours(), 2);
    assert.deepEqual(s.relationships.tasks.data.map((t) => t.attributes),
      [{ ...s.relationships.tasks.data[0]!.attributes, action: 'backup', payload: '*.log\ncache/', time_offset: 0 }]);
  });

  test('edit keeps one backup task and can pause the schedule', async () => {
    const row = page.getByRole('listitem', { name: 'Schedule Nightly' });
    await row.getByRole('button', { name: 'Edit Nightly' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit schedule "Nightly"' });
    await dialog.waitFor(WAIT);
    assert.equal(await dialog.getByLabel('Ignored files & directories').inputValue(), '*.log\ncache/');
    await dialog.getByLabel('Ignored files & directories').fill('*.log');
    await dialog.getByRole('switch', { name: 'Active' }).uncheck();
    await dialog.getByRole('button', { name: 'Save schedule' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await row.getByText('Inactive', { exact: true }).waitFor(WAIT);
    assert.match(await row.innerText(), /paused/);
    assert.match(await row.innerText(), /1 ignored pattern\b/);
    const list = await clientApi<{ data: Array<{ attributes: { is_active: boolean; relationships: { tasks: { data: Array<{ attributes: { payload: string } }> } } } }> }>(
      stack, 'GET', serverPath('/schedules'));
    const s = list.json.data[0]!.attributes;
    assert.equal(s.is_active, false);
    assert.deepEqual(s.relationships.tasks.data.map((t) => t.attributes.payload), ['*.log'], 'still one task, updated');
  });

  test('run now makes a backup that shows up on the Backups tab, and the saved policy prunes the rest', async () => {
    const row = page.getByRole('listitem', { name: 'Schedule Nightly' });
    await row.getByRole('button', { name: 'Run Nightly now' }).click();
    await page.getByRole('status').getByText('Nightly is running.', { exact: false }).waitFor(WAIT);
    // The row records the run (last run stops being "never") once the panel has claimed it.
    await until('last run shows', async () => ((await row.locator('.backup-created').innerText()).includes('never') ? undefined : true), 30_000);
    await page.screenshot({ path: shot('schedules-05-run-now'), fullPage: true });

    await page.getByRole('status').getByRole('link', { name: 'Go to Backups' }).click();
    await page.getByRole('heading', { name: 'Backups', level: 1 }).waitFor(WAIT);
    const known = new Set(made.values());
    const fresh = await until('a new backup appears in the list', async () => {
      for (const li of await page.locator('li.backup').all()) {
        const uuid = await li.getAttribute('data-uuid');
        if (uuid && !known.has(uuid)) return li;
      }
      return undefined;
    });
    await until('the scheduled backup completes', async () => ((await fresh.getAttribute('data-state')) === 'completed' ? true : undefined));
    const freshUuid = (await fresh.getAttribute('data-uuid'))!;
    const s = await clientApi<BackupJson>(stack, 'GET', serverPath(`/backups/${freshUuid}`));
    assert.equal(s.json.attributes.is_successful, true);

    // keep_last=1: the scheduled backup stays, the locked milestone stays, Middle and Newest go.
    await until('retention removed the unkept backups', async () => {
      const names = (await liveBackups()).map((b) => b.uuid).sort();
      return names.length === 2 ? names : undefined;
    });
    assert.deepEqual((await liveBackups()).map((b) => b.uuid).sort(), [made.get('Old milestone')!, freshUuid].sort());
    // The page looks again a moment after the completion, so the pruned rows go without a reload.
    await page.locator(`li.backup[data-uuid="${made.get('Middle')}"]`).waitFor({ state: 'detached', ...WAIT });
    await page.locator(`li.backup[data-uuid="${made.get('Newest')}"]`).waitFor({ state: 'detached', ...WAIT });
    assert.equal(await page.locator('li.backup').count(), 2);
    // The automatic actions are in the activity log, in words.
    // …and the page said so where it happened.
    await page.getByRole('status').filter({ hasText: 'The retention policy deleted' }).waitFor(WAIT);
    await page.getByText('Backup activity', { exact: true }).click();
    const activity = page.locator('details.activity');
    await activity.getByText('Ran schedule "Nightly"').first().waitFor(WAIT);
    await activity.locator('li', { hasText: 'Deleted backup "Middle" under the retention policy' }).filter({ hasText: '— Retention policy' }).waitFor(WAIT);
    await activity.locator('li', { hasText: 'Deleted backup "Newest" under the retention policy' }).waitFor(WAIT);
    await page.screenshot({ path: shot('schedules-06-backups-after-run'), fullPage: true });
  });

  test('delete a schedule after confirming', async () => {
    await page.getByRole('navigation', { name: 'Server sections' }).getByRole('link', { name: 'Schedules' }).click();
    const row = page.getByRole('listitem', { name: 'Schedule Nightly' });
    await row.waitFor(WAIT);
    await row.getByRole('button', { name: 'Delete Nightly' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete schedule "Nightly"' });
    await confirm.waitFor(WAIT);
    await page.screenshot({ path: shot('schedules-07-delete-confirm') });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached', ...WAIT });
    assert.equal((await clientApi<{ data: unknown[] }>(stack, 'GET', serverPath('/schedules'))).json.data.length, 1, 'cancel keeps it');
    await row.getByRole('button', { name: 'Delete Nightly' }).click();
    await confirm.getByRole('button', { name: 'Delete schedule' }).click();
    await row.waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('status').getByText('Nightly was deleted.').waitFor(WAIT);
    assert.equal((await clientApi<{ data: unknown[] }>(stack, 'GET', serverPath('/schedules'))).json.data.length, 0);
    assert.equal((await liveBackups()).length, 2, 'its backups stay');
  });

  test('a server whose backup limit is 0: the refused backup task is explained, and the schedule it left is listed', async () => {
    const out = await backwing(['admin', 'server', 'create', '--data', stack.dataDir, '--name', 'No backups here',
      '--owner', stack.admin_email, '--node', stack.node_uuid, '--backup-limit', '0', '--json']);
    const zero = JSON.parse(out.trim().split('\n').pop()!) as { identifier: string };
    await page.goto(new URL(`/server/${zero.identifier}/schedules`, stack.panel_url).href);
    await page.getByText('No schedules yet.').waitFor(WAIT);
    assert.match(await page.getByTestId('schedules-limit-zero').innerText(), /backup limit is 0/);
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create schedule' });
    await dialog.getByLabel('Schedule name').fill('Never backs up');
    await dialog.getByRole('button', { name: 'Create schedule' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor(WAIT);
    assert.equal((await alert.innerText()).trim(),
      "The schedule was created, but its backup task was refused: A backup task cannot be created when the server's backup limit is set to 0.");
    await page.screenshot({ path: shot('schedules-08-limit-zero') });
    // Trying again updates the schedule made by the first attempt instead of making a second one.
    await dialog.getByRole('button', { name: 'Create schedule' }).click();
    await alert.getByText('backup limit is set to 0', { exact: false }).waitFor(WAIT);
    const list = await clientApi<{ data: unknown[] }>(stack, 'GET', `/api/client/servers/${zero.identifier}/schedules`);
    assert.equal(list.json.data.length, 1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const row = page.getByRole('listitem', { name: 'Schedule Never backs up' });
    await row.waitFor(WAIT);
    await row.getByText('No backup task yet', { exact: false }).waitFor(WAIT);
    assert.equal(await row.getByRole('button', { name: 'Run Never backs up now' }).isDisabled(), true, 'nothing to run');
  });

  test('a subuser without backup.delete sees schedules but no retention card and no actions it may not use', async () => {
    const keep = await clientApi(stack, 'POST', serverPath('/schedules'),
      { name: 'Weekly', minute: '0', hour: '3', day_of_month: '*', month: '*', day_of_week: '0', is_active: true });
    assert.equal(keep.status, 200, JSON.stringify(keep.json));
    const email = 'scheduler-viewer@example.com';
    const password = 'viewer-password-123';
    await backwing(['admin', 'user', 'create', '--data', stack.dataDir, '--email', email, '--password', password]);
    const sub = await clientApi(stack, 'POST', serverPath('/users'), { email, permissions: ['backup.read', 'backup.create', 'schedule.read'] });
    assert.equal(sub.status, 200, JSON.stringify(sub.json));
    const c = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await c.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.message));
      await p.goto(new URL(`/server/${stack.server_identifier}/schedules`, stack.panel_url).href);
      await signIn(p, email, password);
      const row = p.getByRole('listitem', { name: 'Schedule Weekly' });
      await row.waitFor(WAIT);
      assert.match(await row.innerText(), /Every Sunday at 03:00 UTC/);
      assert.equal(await p.getByTestId('retention-card').count(), 0, 'no retention card without backup.delete');
      assert.equal(await p.getByRole('button', { name: 'Create schedule' }).count(), 0);
      for (const name of ['Run Weekly now', 'Edit Weekly', 'Delete Weekly']) {
        assert.equal(await row.getByRole('button', { name }).count(), 0, `no ${name}`);
      }
      await p.screenshot({ path: shot('schedules-09-subuser'), fullPage: true });
      // And the panel agrees: the retention routes are closed to this user.
      const res = await p.request.get(new URL(serverPath('/backups/retention'), stack.panel_url).href, { headers: { Accept: 'application/json' } });
      assert.equal(res.status(), 403);
    } finally {
      await c.close();
    }
  });

  test('a subuser with neither schedule.read nor backup.delete gets no Schedules tab', async () => {
    const email = 'backups-only@example.com';
    const password = 'backups-only-123';
    await backwing(['admin', 'user', 'create', '--data', stack.dataDir, '--email', email, '--password', password]);
    const sub = await clientApi(stack, 'POST', serverPath('/users'), { email, permissions: ['backup.read'] });
    assert.equal(sub.status, 200, JSON.stringify(sub.json));
    const c = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await c.newPage();
      await p.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
      await signIn(p, email, password);
      await p.getByTestId('backup-count').waitFor(WAIT);
      assert.equal(await p.getByRole('navigation', { name: 'Server sections' }).count(), 0);
    } finally {
      await c.close();
    }
  });

  test('phone width (375 px): the Schedules tab fits, dialog included', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const p = await phone.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.message));
      await p.goto(new URL(`/server/${stack.server_identifier}/schedules`, stack.panel_url).href);
      await signIn(p, stack.admin_email, stack.adminPassword);
      const row = p.getByRole('listitem', { name: 'Schedule Weekly' });
      await row.waitFor(WAIT);
      await p.getByTestId('retention-card').getByRole('button', { name: 'Preview' }).click();
      await p.getByRole('region', { name: 'Retention preview' }).waitFor(WAIT);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      for (const name of ['Run Weekly now', 'Edit Weekly', 'Delete Weekly']) {
        const box = await row.getByRole('button', { name }).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${name} is on screen`);
      }
      await p.screenshot({ path: shot('schedules-10-phone'), fullPage: true });
      await p.getByRole('button', { name: 'Create schedule' }).click();
      const dialog = p.getByRole('dialog', { name: 'Create schedule' });
      await dialog.waitFor(WAIT);
      const box = await dialog.getByLabel('Day of week').boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375, 'cron fields fit');
      await p.screenshot({ path: shot('schedules-11-phone-dialog') });
    } finally {
      await phone.close();
    }
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
});
