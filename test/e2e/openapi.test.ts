/**
 * The checked-in OpenAPI documents are exactly what the route schemas produce today. A route or
 * schema change without `node --import tsx scripts/gen-openapi.ts` fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateOpenApi, OPENAPI_DIR } from '../../scripts/gen-openapi.ts';

test('openapi/*.json match the documents generated from the routes', async () => {
  const docs = await generateOpenApi();
  assert.deepEqual(Object.keys(docs).sort(), ['daemon.json', 'panel.json']);
  for (const [name, text] of Object.entries(docs)) {
    const current = await readFile(join(OPENAPI_DIR, name), 'utf8').catch(() => '');
    assert.ok(current === text, `openapi/${name} is out of date; run: node --import tsx scripts/gen-openapi.ts`);
  }
});

test('the documents describe the backup routes clients rely on', async () => {
  const panel = JSON.parse(await readFile(join(OPENAPI_DIR, 'panel.json'), 'utf8')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  const daemon = JSON.parse(await readFile(join(OPENAPI_DIR, 'daemon.json'), 'utf8')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.match(panel.openapi, /^3\./);
  const b = '/api/client/servers/{server}/backups';
  assert.deepEqual(Object.keys(panel.paths[b] ?? {}).sort(), ['get', 'post']);
  for (const [path, method] of [[`${b}/{backup}`, 'get'], [`${b}/{backup}`, 'delete'], [`${b}/{backup}/download`, 'get'], [`${b}/{backup}/lock`, 'post'], [`${b}/{backup}/restore`, 'post'], ['/api/client/servers/{server}/websocket', 'get']] as const) {
    assert.ok(panel.paths[path]?.[method], `panel ${method.toUpperCase()} ${path}`);
  }
  for (const [path, method] of [['/api/servers/{server}/backup', 'post'], ['/api/servers/{server}/backup/{backup}/restore', 'post'], ['/api/servers/{server}/backup/{backup}', 'delete'], ['/download/backup', 'get']] as const) {
    assert.ok(daemon.paths[path]?.[method], `daemon ${method.toUpperCase()} ${path}`);
  }
});
