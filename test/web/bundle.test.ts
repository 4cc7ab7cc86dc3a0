/** The built UI is self-contained: no CDN, no web fonts, no server code pulled in through src/wire. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, ensureWebBuilt } from './support/build.ts';

const DIST = join(REPO, 'src/web/dist');

test('the web bundle loads nothing from other origins and carries no server code', { timeout: 180_000 }, async () => {
  await ensureWebBuilt();
  const html = await readFile(join(DIST, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.some((r) => /^\/assets\/.+\.js$/.test(r)), `index.html loads a local script: ${refs.join(', ')}`);
  for (const r of refs) assert.ok(r.startsWith('/') || r.startsWith('data:'), `${r} is local`);

  const assets = await readdir(join(DIST, 'assets'));
  const css = await Promise.all(assets.filter((a) => a.endsWith('.css')).map((a) => readFile(join(DIST, 'assets', a), 'utf8')));
  for (const text of css) {
    assert.doesNotMatch(text, /@import|url\(\s*["']?https?:/, 'no remote stylesheet or font');
    assert.doesNotMatch(text, /@font-face/, 'system fonts only');
  }
  const js = await Promise.all(assets.filter((a) => a.endsWith('.js')).map((a) => readFile(join(DIST, 'assets', a), 'utf8')));
  const all = js.join('\n');
  for (const serverOnly of ['typebox', 'fastify', 'kysely', 'better-sqlite3', 'node:fs']) {
    assert.equal(all.includes(serverOnly), false, `${serverOnly} is not in the bundle`);
  }
  assert.ok(all.includes('backup restore completed'), 'the websocket event names from src/wire are compiled in');
});
