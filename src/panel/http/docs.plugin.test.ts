import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { docsPlugin } from './docs.plugin.ts';

test('docs plugin: /docs/json is OpenAPI 3 built from route schemas, with security per API family', async () => {
  const app = Fastify();
  await app.register(docsPlugin, { appUrl: 'http://panel.test' });
  app.post('/api/client/servers/:server/backups', {
    schema: { params: Type.Object({ server: Type.String() }), body: Type.Object({ name: Type.Optional(Type.String()) }) },
  }, async () => ({}));
  app.get('/api/application/users', async () => ({}));
  app.get('/api/remote/servers', async () => ({}));
  app.get('/metrics', async () => '');
  try {
    const res = await app.inject('/docs/json');
    assert.equal(res.statusCode, 200);
    const doc = res.json() as { openapi: string; servers: Array<{ url: string }>; paths: Record<string, Record<string, { security?: unknown; tags?: string[]; requestBody?: unknown }>> };
    assert.match(doc.openapi, /^3\./);
    assert.deepEqual(doc.servers, [{ url: 'http://panel.test' }]);
    const create = doc.paths['/api/client/servers/{server}/backups']?.post;
    assert.ok(create, 'client route documented with its OpenAPI path');
    assert.deepEqual(create.security, [{ clientKey: [] }]);
    assert.deepEqual(create.tags, ['backups']);
    assert.ok(create.requestBody, 'body schema documented');
    assert.deepEqual(doc.paths['/api/application/users']?.get?.security, [{ applicationKey: [] }]);
    assert.deepEqual(doc.paths['/api/remote/servers']?.get?.security, [{ nodeToken: [] }]);
    assert.equal(doc.paths['/metrics'], undefined, '/metrics is not part of the API document');
    const ui = await app.inject('/docs/');
    assert.equal(ui.statusCode, 200);
    assert.match(ui.body, /swagger/i);
  } finally {
    await app.close();
  }
});

test('buildPanelOpenApi documents every API family of the real panel, identically on each call', async () => {
  const { buildPanelOpenApi } = await import('./docs.plugin.ts');
  const doc = (await buildPanelOpenApi()) as { openapi: string; servers?: unknown; paths: Record<string, Record<string, unknown>> };
  assert.match(doc.openapi, /^3\./);
  assert.equal(doc.servers, undefined, 'no machine-specific server URL in the document');
  for (const path of [
    '/api/client/servers/{server}/backups',
    '/api/client/servers/{server}/backups/{backup}/restore',
    '/api/client/servers/{server}/users',
    '/api/client/servers/{server}/users/{user}',
    '/api/application/users',
    '/api/application/servers/{id}/build',
    '/api/remote/backups/{uuid}',
  ]) {
    assert.ok(doc.paths[path], `${path} is documented`);
  }
  assert.ok(doc.paths['/api/client/servers/{server}/backups']!.post, 'create backup documented');
  assert.deepEqual(await buildPanelOpenApi(), doc);
});
