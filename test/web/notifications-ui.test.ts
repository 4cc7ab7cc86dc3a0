/**
 * The Notifications card on the Backups page in a real Chromium against the real stack
 * (`backwing up`, its own drain timer): the owner adds a signed webhook pointing at a loopback
 * receiver, the secret is not shown, a backup made afterwards arrives there signed, the
 * webhook is removed. Screenshot: test-artifacts/web/notifications-card.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';
import { lowContrastTexts, unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };
const SECRET = 'ui-webhook-secret-42';

let stack: Stack;
let browser: Browser;
let page: Page;
let receiver: Server;
let receiverUrl: string;
const hits: Array<{ headers: IncomingHttpHeaders; body: string }> = [];

describe('web UI: notifications card (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }); res.end(); });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    stack = await startStack({ NOTIFY_DRAIN_INTERVAL_MS: '100' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  });

  test('add a signed webhook, get a backup.completed on it, remove it', async () => {
    await page.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
    await page.getByLabel('Email').fill(stack.admin_email);
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const card = page.getByTestId('notifications-card');
    await card.getByText('No webhooks yet.').waitFor(WAIT);

    // Under load the card can still re-render from its first fetches after 'No webhooks yet.' shows,
    // emptying the field between fill and click: try again until the refusal names the URL rule.
    const refusal = card.getByText(/valid http:\/\/ or https:\/\/ URL/);
    for (let attempt = 1; ; attempt++) {
      await card.getByLabel('Webhook URL').fill('ftp://nope');
      await card.getByRole('button', { name: 'Add webhook' }).click();
      const shown = await refusal.waitFor({ timeout: 10_000 }).then(() => true, () => false);
      if (shown) break;
      assert.ok(attempt < 3, 'an ftp:// webhook URL is refused with the http(s) rule');
    }

    await card.getByLabel('Webhook URL').fill(receiverUrl);
    await card.getByLabel('Secret (optional)').fill(SECRET);
    await card.getByRole('button', { name: 'Add webhook' }).click();
    await card.getByRole('status').getByText(/Webhook added/).waitFor(WAIT);
    await card.getByRole('listitem').filter({ hasText: receiverUrl }).getByText('generic, signed').waitFor(WAIT);
    assert.ok(!(await page.content()).includes(SECRET), 'the secret is not on the page');
    assert.deepEqual(await unnamedControls(page), []);
    assert.deepEqual(await lowContrastTexts(page), []);
    await card.screenshot({ path: shot('notifications-card') });

    const r = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name: 'notified' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const deadline = Date.now() + 60_000;
    while (!hits.some((h) => JSON.parse(h.body).backup?.name === 'notified')) {
      if (Date.now() > deadline) throw new Error(`no webhook within 60 s: ${stack.stderr()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    const hit = hits.find((h) => JSON.parse(h.body).backup?.name === 'notified')!;
    assert.equal(JSON.parse(hit.body).event, 'backup.completed');
    const ts = String(hit.headers['x-backwing-timestamp']);
    assert.equal(hit.headers['x-backwing-signature'], `sha256=${createHmac('sha256', SECRET).update(`${ts}.${hit.body}`).digest('hex')}`);

    await card.getByRole('button', { name: `Remove webhook ${receiverUrl}` }).click();
    await card.getByText('No webhooks yet.').waitFor(WAIT);
  });
});
