import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { DOWNLOAD_TOKEN_TTL_SECONDS, WEBSOCKET_TOKEN_TTL_SECONDS, type BackupDownloadClaims, type WebsocketClaims } from '../wire/tokens.ts';
import { signDownloadToken, signWebsocketToken, randomUniqueId } from './tokens.ts';

const node = { url: 'http://127.0.0.1:8080/', token: 'the-node-daemon-token' };
const key = new TextEncoder().encode(node.token);

test('download token: HS256 with the node token, upstream claims, 15 minutes, 5 minutes early', async () => {
  const before = Math.floor(Date.now() / 1000);
  const jwt = await signDownloadToken(node, { serverUuid: 's-uuid', backupUuid: 'b-uuid', userUuid: 'u-uuid', userId: 7, panelUrl: 'http://panel.test/' });
  assert.equal(decodeProtectedHeader(jwt).alg, 'HS256');
  const { payload } = await jwtVerify<BackupDownloadClaims>(jwt, key, { issuer: 'http://panel.test', audience: 'http://127.0.0.1:8080', algorithms: ['HS256'] });
  assert.equal(payload.server_uuid, 's-uuid');
  assert.equal(payload.backup_uuid, 'b-uuid');
  assert.equal(payload.user_uuid, 'u-uuid');
  assert.equal(payload.user_id, 7);
  assert.equal(payload.scope, 'backup-download');
  assert.match(payload.unique_id, /^[A-Za-z0-9]{16}$/);
  assert.ok(payload.jti && payload.jti.length > 0);
  assert.ok(payload.iat! >= before);
  assert.equal(payload.exp - payload.iat!, DOWNLOAD_TOKEN_TTL_SECONDS);
  assert.equal(payload.iat! - payload.nbf!, 300);
});

test('download tokens are unique per call and rejected with another node token', async () => {
  const a = await signDownloadToken(node, { serverUuid: 's', backupUuid: 'b', panelUrl: 'http://p' });
  const b = await signDownloadToken(node, { serverUuid: 's', backupUuid: 'b', panelUrl: 'http://p' });
  const pa = (await jwtVerify<BackupDownloadClaims>(a, key)).payload;
  const pb = (await jwtVerify<BackupDownloadClaims>(b, key)).payload;
  assert.notEqual(pa.unique_id, pb.unique_id);
  assert.notEqual(pa.jti, pb.jti);
  assert.equal(pa.user_uuid, undefined);
  await assert.rejects(jwtVerify(a, new TextEncoder().encode('other-node-token')), /signature/i);
});

test('websocket token: permissions, websocket scope, WEBSOCKET_TOKEN_TTL_SECONDS', async () => {
  const jwt = await signWebsocketToken(node, { serverUuid: 's', userUuid: 'u', userId: 3, permissions: ['backup.read', 'websocket.connect'] });
  const { payload } = await jwtVerify<WebsocketClaims>(jwt, key, { algorithms: ['HS256'] });
  assert.equal(payload.server_uuid, 's');
  assert.equal(payload.user_uuid, 'u');
  assert.equal(payload.user_id, 3);
  assert.deepEqual(payload.permissions, ['backup.read', 'websocket.connect']);
  assert.equal(payload.scope, 'websocket');
  assert.equal(payload.exp - payload.iat!, WEBSOCKET_TOKEN_TTL_SECONDS);
});

test('randomUniqueId gives the requested length of alphanumerics', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const id = randomUniqueId();
    assert.match(id, /^[A-Za-z0-9]{16}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 200);
  assert.equal(randomUniqueId(40).length, 40);
});
