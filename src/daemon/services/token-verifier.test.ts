import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { Secret } from '../../core/secret.ts';
import { TokenVerifier, TokenInvalid, OneTimeIds } from './token-verifier.ts';
import { DOWNLOAD_TOKEN_TTL_SECONDS, TOKEN_CLOCK_SKEW_SECONDS } from '../../wire/tokens.ts';

const KEY = 'node-token-node-token-node-token';
const key = new TextEncoder().encode(KEY);
const claims = { server_uuid: 's', backup_uuid: 'b', unique_id: 'u' };
const exp = () => Math.floor(Date.now() / 1000) + 60;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

test('download tokens: only HS256 with the node token passes; other HMACs, alg none, missing exp and empty unique_id are refused', async () => {
  const v = new TokenVerifier(new Secret(KEY));
  const good = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp()).sign(key);
  assert.equal((await v.download(good)).unique_id, 'u');
  for (const alg of ['HS384', 'HS512']) {
    const other = await new SignJWT(claims).setProtectedHeader({ alg }).setExpirationTime(exp()).sign(key);
    await assert.rejects(v.download(other), TokenInvalid, alg);
  }
  await assert.rejects(v.download(`${b64({ alg: 'none' })}.${b64({ ...claims, exp: exp() })}.`), TokenInvalid, 'alg none');
  const noExp = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
  await assert.rejects(v.download(noExp), TokenInvalid, 'exp required');
  const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp()).sign(new TextEncoder().encode('another-key-another-key'));
  await assert.rejects(v.download(wrongKey), TokenInvalid, 'wrong key');
  const emptyId = await new SignJWT({ ...claims, unique_id: '' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp()).sign(key);
  await assert.rejects(v.download(emptyId), TokenInvalid, 'empty unique_id');
  for (const garbage of ['', 'a', 'a.b.c', '...', `${b64({ alg: 'HS256' })}.e30`]) await assert.rejects(v.download(garbage), TokenInvalid, garbage);
});

test('one-time ids: the first claim wins, replays lose until expiry', () => {
  const ids = new OneTimeIds();
  const exp = Math.floor(Date.now() / 1000) + 60;
  assert.equal(ids.claim('x', exp), true);
  assert.equal(ids.claim('x', exp), false);
  assert.equal(ids.claim('y', exp), true);
});

test('download tokens that expire further away than the panel ever issues (15 min + clock skew) are refused', async () => {
  const now = 1_900_000_000;
  const v = new TokenVerifier(new Secret(KEY), () => now * 1000);
  const sign = (expAt: number) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expAt).sign(key);
  const longest = now + DOWNLOAD_TOKEN_TTL_SECONDS + TOKEN_CLOCK_SKEW_SECONDS;
  assert.equal((await v.download(await sign(longest))).unique_id, 'u');
  await assert.rejects(v.download(await sign(longest + 1)), /expires too far in the future/);
  await assert.rejects(v.download(await sign(now + 365 * 24 * 3600)), TokenInvalid, 'a year-long link');
});
