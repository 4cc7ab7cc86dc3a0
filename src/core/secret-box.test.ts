import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateAppKey, parseAppKey, SecretBox, SecretBoxError } from './secret-box.ts';

test('seal then open gives the secret back; the sealed text does not contain it', () => {
  const box = new SecretBox([parseAppKey(generateAppKey())]);
  const sealed = box.seal('node-token-ABC');
  assert.ok(SecretBox.isSealed(sealed));
  assert.ok(!sealed.includes('node-token-ABC'));
  assert.notEqual(box.seal('node-token-ABC'), sealed, 'a fresh IV every time');
  assert.equal(box.open(sealed), 'node-token-ABC');
});

test('rotation: a previous key still opens, the new key seals, isStale tells which to re-seal', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const sealedOld = new SecretBox([oldKey]).seal('s3-secret');
  const rotated = new SecretBox([newKey, oldKey]);
  assert.equal(rotated.open(sealedOld), 's3-secret');
  assert.equal(rotated.isStale(sealedOld), true);
  assert.equal(rotated.isStale(rotated.seal('x')), false);
  assert.throws(() => new SecretBox([newKey]).open(sealedOld), /neither APP_KEY nor in APP_PREVIOUS_KEYS/);
});

test('an altered or truncated value is refused, never returned as garbage', () => {
  const box = new SecretBox([randomBytes(32)]);
  const sealed = box.seal('password');
  const last = sealed.at(-1) === 'A' ? 'B' : 'A';
  assert.throws(() => box.open(sealed.slice(0, -1) + last), SecretBoxError);
  assert.throws(() => box.open(sealed.slice(0, 20)), SecretBoxError);
  assert.throws(() => box.open('plain'), /not a sealed secret/);
});

test('APP_KEY accepts Laravel\'s base64: form and 64 hex digits, and nothing else', () => {
  assert.equal(parseAppKey(`base64:${Buffer.alloc(32, 7).toString('base64')}`).length, 32);
  assert.equal(parseAppKey('ab'.repeat(32)).length, 32);
  assert.throws(() => parseAppKey('base64:c2hvcnQ='), /32 bytes/);
  assert.throws(() => parseAppKey('hunter2'), /APP_KEY/);
});
