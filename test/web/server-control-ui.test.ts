/**
 * Server control in the Backups page, in Chromium against the real stack (`backwing up`): first as
 * installed (no control: the restore dialog says to stop the server first), then restarted with a
 * `control:` section of exec scripts in data/daemon/config.yml (the dialog says the server will be
 * stopped, restored and started again, and it is; the save hook card picks minecraft-java and the
 * next backup sends its commands); changed files shown on a backup's row.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuilt } from './support/build.ts';
import { clientApi, startStack, type Stack } from './support/stack.ts';
import { launchChromium, shot } from './support/browser.ts';
import { unnamedControls } from './support/a11y.ts';

const WAIT = { timeout: 30_000 };

let dataDir: string;
let stack: Stack;
let browser: Browser;
let page: Page;
let callsLog: string;

async function backupNow(name: string): Promise<string> {
  const created = await clientApi<{ attributes: { uuid: string } }>(stack, 'POST', `/api/client/servers/${stack.server_identifier}/backups`, { name });
  assert.equal(created.status, 200);
  const uuid = created.json.attributes.uuid;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await clientApi<{ attributes: { completed_at: string | null; is_successful: boolean } }>(stack, 'GET', `/api/client/servers/${stack.server_identifier}/backups/${uuid}`);
    if (r.json.attributes.completed_at !== null) {
      assert.equal(r.json.attributes.is_successful, true);
      return uuid;
    }
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error('backup did not complete');
}

async function openBackups(): Promise<void> {
  await page.goto(`${stack.panel_url}/server/${stack.server_identifier}/backups`);
  await page.getByRole('heading', { name: 'Backups', level: 1 }).waitFor(WAIT);
}

async function restoreDialogText(name: string): Promise<string> {
  await page.getByRole('listitem', { name: `Backup ${name}`, exact: true }).getByRole('button', { name: `Restore ${name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Restore "${name}"` });
  await dialog.waitFor(WAIT);
  return (await dialog.getByTestId('restore-control').innerText()).trim();
}

describe('web UI: server control (real stack, Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    await ensureWebBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'backwing-web-control-'));
    stack = await startStack({}, { dataDir });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('without control: "Stop your server first", and the card says the node has none', async () => {
    await backupNow('plain');
    await page.goto(stack.panel_url);
    await page.getByLabel('Email').fill(stack.admin_email);
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your servers' }).waitFor(WAIT);
    await openBackups();
    await page.getByTestId('save-hook-card').getByText('This node has no server control').waitFor(WAIT);
    assert.equal(await restoreDialogText('plain'), 'Stop your server first; files are replaced while it runs.');
    await page.screenshot({ path: shot('control-01-restore-no-control') });
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  });

  test('with exec control: pick minecraft-java, the backup sends it; the restore stops and starts the server', async () => {
    await stack.stop();
    callsLog = join(dataDir, 'control-calls.log');
    const stateFile = join(dataDir, 'control-state.txt');
    await writeFile(stateFile, 'running\n');
    const script = async (name: string, body: string) => {
      const p = join(dataDir, `control-${name}.sh`);
      await writeFile(p, `#!/bin/sh\necho "${name} $*" >> ${callsLog}\n${body}\n`);
      await chmod(p, 0o755);
      return p;
    };
    const configPath = join(dataDir, 'daemon', 'config.yml');
    const doc = parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    doc.control = {
      type: 'exec',
      exec: {
        state: [await script('state', `cat ${stateFile}`)],
        stop: [await script('stop', `echo offline > ${stateFile}`)],
        start: [await script('start', `echo running > ${stateFile}`)],
        command: [await script('cmd', 'case "$2" in "save-all flush") echo "Saved the game";; *) echo ok;; esac'), '{uuid}', '{command}'],
      },
      save_hooks: { allowed: ['minecraft-java', 'custom'] },
    };
    await writeFile(configPath, stringify(doc));
    stack = await startStack({}, { dataDir });

    await openBackups();
    const card = page.getByTestId('save-hook-card');
    await card.getByLabel('Save hook').waitFor(WAIT);
    await card.getByLabel('Save hook').selectOption('minecraft-java');
    await card.getByRole('button', { name: 'Save hook' }).click();
    await card.getByText('Save hook saved').waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    await page.screenshot({ path: shot('control-02-save-hook') });

    await backupNow('hooked');
    const cmds = (await readFile(callsLog, 'utf8')).split('\n').filter((l) => l.startsWith('cmd '));
    assert.deepEqual(cmds.map((l) => l.split(' ').slice(2).join(' ')), ['save-off', 'save-all flush', 'save-on']);

    await openBackups();
    assert.equal(await restoreDialogText('hooked'), 'The server will be stopped, restored and started again.');
    await page.screenshot({ path: shot('control-03-restore-with-control') });
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    const power = async () => (await readFile(callsLog, 'utf8')).split('\n').filter((l) => l.startsWith('stop ') || l.startsWith('start ')).map((l) => l.split(' ')[0]);
    const deadline = Date.now() + 60_000;
    while ((await power()).length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(await power(), ['stop', 'start']);
    await page.getByText('The restore finished').waitFor(WAIT);
    assert.equal((await readFile(stateFile, 'utf8')).trim(), 'running');
  });

  test('a backup whose files changed while being read says so on its row', async () => {
    // The list as the panel returns it, with one backup's changed files filled in.
    await page.route('**/backups?page=*', async (route) => {
      const res = await route.fetch();
      const body = await res.json() as { data: Array<{ attributes: Record<string, unknown> }> };
      for (const d of body.data) {
        if (d.attributes.name === 'hooked') d.attributes.changed_files = { count: 3, names: ['logs/latest.log', 'world/region/r.0.0.mca', 'usercache.json'], inconsistent: 0 };
      }
      await route.fulfill({ response: res, json: body });
    });
    await openBackups();
    const note = page.getByRole('listitem', { name: 'Backup hooked', exact: true }).getByTestId('changed-files');
    await note.waitFor(WAIT);
    assert.equal((await note.innerText()).trim(), '3 files changed while being backed up: logs/latest.log, world/region/r.0.0.mca, usercache.json');
    assert.equal(await page.getByRole('listitem', { name: 'Backup plain', exact: true }).getByTestId('changed-files').count(), 0);
    await page.screenshot({ path: shot('control-04-changed-files') });
    await page.unroute('**/backups?page=*');
  });
});
