/**
 * The admin Destinations page in a real Chromium against the real stack (`backwing up`), with
 * fauxqs as the S3 server: a root admin opens it from the top bar, an S3 destination whose bucket
 * is missing is refused with S3's code, a good one is added and tested, deleting the default is
 * refused with the panel's reason; then a server's backups go to a destination that copies to a
 * second one, and the backup row shows the "2 copies" badge. Then the page's assignment card: a
 * node is pointed at a destination, a server's override is cleared and set again, and a new backup
 * goes where the page said. Both admin pages (destinations, backup limits) at phone width.
 * Screenshots: test-artifacts/web/destinations-page.png, destinations-assignments.png,
 * destinations-phone.png, backup-limits-phone.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { ensureWebBuilt } from './support/build.ts';
import { clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';
import { lowContrastTexts, unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };

let stack: Stack;
let browser: Browser;
let page: Page;
let fx: FauxqsServer;

/** A call with the browser's own session (cookie + XSRF header), as the page makes them. */
async function asPage(method: string, path: string, body?: unknown): Promise<number> {
  return (await asPageJson(method, path, body)).status;
}

async function asPageJson(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return page.evaluate(async ([m, p, b]) => {
    const xsrf = decodeURIComponent(/(?:^|; )XSRF-TOKEN=([^;]*)/.exec(document.cookie)?.[1] ?? '');
    const res = await fetch(p as string, { method: m as string, headers: { 'Content-Type': 'application/json', 'X-XSRF-TOKEN': xsrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }, [method, path, body] as const);
}

describe('web UI: backup destinations admin page (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    fx = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
    stack = await startStack({ BACKUP_THROTTLE_PERIOD: '0' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
    await fx?.stop();
  });

  test('add (refused, then accepted), test, refuse deleting the default; a copied backup shows "2 copies"', async () => {
    const endpoint = `http://127.0.0.1:${fx.port}`;
    await page.goto(new URL('/', stack.panel_url).href);
    await page.getByLabel('Email').fill(stack.admin_email);
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Destinations' }).click();
    await page.getByRole('heading', { name: 'Backup destinations' }).waitFor(WAIT);
    const card = page.getByTestId('destinations-card');
    await card.locator('li[data-name="local"]').getByText('Default').waitFor(WAIT);

    const fill = async (name: string, bucket: string) => {
      await card.getByLabel('Name').fill(name);
      await card.getByLabel('Endpoint').fill(endpoint);
      await card.getByLabel('Bucket').fill(bucket);
      await card.getByLabel('Access key ID').fill('test');
      await card.getByLabel('Secret access key').fill('test');
      await card.getByRole('button', { name: 'Add destination' }).click();
    };
    await fill('offsite', 'missing-bucket');
    await card.getByText(/NoSuchBucket/).waitFor(WAIT);
    fx.createBucket('offsite');
    fx.createBucket('primary');
    await fill('offsite', 'offsite');
    await card.getByRole('status').getByText('Destination offsite added (the connection was tested).').waitFor(WAIT);
    await fill('primary', 'primary');
    await card.locator('li[data-name="primary"]').waitFor(WAIT);
    assert.ok(!(await page.content()).includes('secret_access_key'), 'no secret on the page');

    await card.getByRole('button', { name: 'Test offsite' }).click();
    await card.getByRole('status').getByText(/offsite: listed, wrote and deleted a test object/).waitFor(WAIT);
    await card.getByRole('button', { name: 'Delete local' }).click();
    await card.getByText(/"local" is the default/).waitFor(WAIT);
    // A restic repository: its own fields, no password field (the panel generates it).
    await card.getByLabel('Kind').selectOption({ label: 'restic repository' });
    await card.getByLabel('Name').fill('snapshots');
    await card.getByLabel('Repository').fill('/srv/restic');
    await card.getByRole('button', { name: 'Add destination' }).click();
    await card.getByRole('status').getByText('Destination snapshots added.').waitFor(WAIT);
    await card.locator('li[data-name="snapshots"]').getByText('restic repository /srv/restic').waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    assert.deepEqual(await lowContrastTexts(page), []);
    await page.screenshot({ path: shot('destinations-page'), fullPage: true });

    // Session-authenticated admin calls (what the page uses): copy primary → offsite; the server backs up to primary.
    assert.equal(await asPage('PATCH', '/api/application/destinations/primary', { copy_to: 'offsite' }), 200);
    assert.equal(await asPage('PUT', `/api/application/servers/${stack.server_identifier}/destination`, { destination: 'primary' }), 204);
    const r = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name: 'copied' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const b = await clientApi<{ attributes: { copies?: number; destination?: string; completed_at: string | null } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${r.json.attributes.uuid}`);
      if (b.json.attributes.copies === 1) {
        assert.equal(b.json.attributes.destination, 'primary');
        break;
      }
      if (Date.now() > deadline) throw new Error(`no verified copy within 90 s: ${JSON.stringify(b.json)}\n${stack.stderr()}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    await page.goto(new URL(`/server/${stack.server_identifier}/backups`, stack.panel_url).href);
    const row = page.locator(`li[data-uuid="${r.json.attributes.uuid}"]`);
    await row.getByText('2 copies').waitFor(WAIT);
  });
  test('assign a destination to a node and override it per server on the page; a new backup goes where the page said', async () => {
    const assignments = async () => (await asPageJson('GET', '/api/application/destination-assignments')).json.attributes as { nodes: Array<{ id: number; name: string; destination: number | null }>; servers: Array<{ identifier: string; destination: number }> };
    const ids = new Map(((await asPageJson('GET', '/api/application/destinations')).json.data as Array<{ attributes: { id: number; name: string } }>).map((d) => [d.attributes.name, d.attributes.id]));
    await page.goto(new URL('/admin/destinations', stack.panel_url).href);
    const card = page.getByTestId('destination-assignments');
    const [node] = (await assignments()).nodes;
    assert.ok(node, 'the stack has a node');
    assert.equal(node.destination, null, 'no node assigned yet');

    // The node → offsite.
    await card.getByLabel(`Destination of node ${node.name}`).selectOption({ label: 'offsite' });
    await card.getByRole('status').getByText(`Node ${node.name} now backs up to offsite.`).waitFor(WAIT);
    assert.equal((await assignments()).nodes[0]!.destination, ids.get('offsite'));

    // The server's override (primary, set above) is listed; cleared on the page, it follows its node.
    const override = card.getByLabel(/^Destination of server /);
    assert.equal(await override.inputValue(), String(ids.get('primary')));
    await override.selectOption({ label: 'Its node\'s destination' });
    await card.getByRole('status').getByText(/backs up to its node's destination again/).waitFor(WAIT);
    await card.getByText('No server overrides its node.').waitFor(WAIT);
    assert.deepEqual((await assignments()).servers, []);
    const made = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name: 'after the page' });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    const view = await clientApi<{ attributes: { destination?: string } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${made.json.attributes.uuid}`);
    assert.equal(view.json.attributes.destination, 'offsite', 'the node\'s destination, as the page set it');

    // Overridden again through the form: the row comes back, and reloading shows what was saved.
    await card.getByLabel('Server (identifier or UUID)').fill(stack.server_identifier);
    await card.getByLabel('Its destination').selectOption({ label: 'primary' });
    await card.getByRole('button', { name: 'Override' }).click();
    await card.getByRole('status').getByText(`Server ${stack.server_identifier} now backs up to primary.`).waitFor(WAIT);
    await page.reload();
    await card.locator(`li[data-server="${stack.server_identifier}"]`).waitFor(WAIT);
    assert.equal(await card.getByLabel(/^Destination of server /).inputValue(), String(ids.get('primary')));
    assert.equal(await card.getByLabel(`Destination of node ${node.name}`).inputValue(), String(ids.get('offsite')));
    assert.deepEqual((await assignments()).servers.map((x) => [x.identifier, x.destination]), [[stack.server_identifier, ids.get('primary')]]);
    // An unknown server is refused in words.
    await card.getByLabel('Server (identifier or UUID)').fill('nosuchsv');
    await card.getByLabel('Its destination').selectOption({ label: 'offsite' });
    await card.getByRole('button', { name: 'Override' }).click();
    await card.getByRole('alert').getByText('There is no server "nosuchsv" (give its identifier or UUID).').waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    assert.deepEqual(await lowContrastTexts(page), []);
    await page.screenshot({ path: shot('destinations-assignments'), fullPage: true });
  });

  test('at phone width (390 px) both admin pages fit without sideways scrolling, every control named', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // Each page measured once its data is in: the server's row on both, the node's ignore box on limits.
    const pages = [
      ['/admin/destinations', 'destinations-phone', () => page.locator(`li[data-server="${stack.server_identifier}"]`).waitFor(WAIT)],
      ['/admin/backup-limits', 'backup-limits-phone', async () => {
        await page.locator(`li[data-identifier="${stack.server_identifier}"]`).getByLabel(/^Storage quota of /).waitFor(WAIT);
        await page.getByLabel(/^Always ignored on node /).waitFor(WAIT);
      }],
    ] as const;
    for (const [path, name, loaded] of pages) {
      await page.goto(new URL(path, stack.panel_url).href);
      await loaded();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} scrolls sideways by ${overflow}px at 390 px`);
      const wide = await page.evaluate(() => [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1).map((el) => el.tagName + (el.id ? `#${el.id}` : '')).slice(0, 5));
      assert.deepEqual(wide, [], `${path}: elements past the right edge`);
      assert.deepEqual(await unnamedControls(page), []);
      await page.screenshot({ path: shot(name), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
