import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from './download.routes.ts';
import { canonicalUuid } from '../uuid.ts';
import { buildDaemonOpenApi } from '../main.ts';

test('Range parsing: open, closed, suffix, clamped, unsatisfiable, ignored', () => {
  assert.equal(parseRange(undefined, 100), null);
  assert.deepEqual(parseRange('bytes=10-', 100), { start: 10, end: 99 });
  assert.deepEqual(parseRange('bytes=10-19', 100), { start: 10, end: 19 });
  assert.deepEqual(parseRange('bytes=90-200', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange('items=1-2', 100), null);
  assert.equal(parseRange('bytes=20-10', 100), null);
});

test('canonical uuids: uppercase normalised, others refused', () => {
  assert.equal(canonicalUuid('0E4C8A4B-1B2C-4D5E-8F90-A1B2C3D4E5F6'), '0e4c8a4b-1b2c-4d5e-8f90-a1b2c3d4e5f6');
  for (const bad of ['0e4c8a4b1b2c4d5e8f90a1b2c3d4e5f6', '{0e4c8a4b-1b2c-4d5e-8f90-a1b2c3d4e5f6}', '../target/archive', '', 5, null]) {
    assert.equal(canonicalUuid(bad), null, String(bad));
  }
});

test('buildDaemonOpenApi returns the document without listening', async () => {
  const doc = (await buildDaemonOpenApi()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.0.3');
  assert.ok(doc.paths['/api/servers/{server}/backup']?.post);
  assert.ok(doc.paths['/api/servers/{server}/backup/{backup}']?.delete);
  assert.ok(doc.paths['/api/servers/{server}/backup/delete-all']?.delete);
  assert.ok(doc.paths['/download/backup']?.get);
  assert.ok(doc.paths['/api/system']?.get);
  assert.ok(doc.paths['/api/servers']?.post);
});
