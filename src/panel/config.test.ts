import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_PART_SIZE, loadEnvFile, loadPanelConfig } from './config.ts';
import { isAppError } from '../core/app-error.ts';

function configError(env: Record<string, string>, name: string): void {
  assert.throws(() => loadPanelConfig(env), (err: unknown) => {
    assert.ok(isAppError(err));
    assert.equal(err.code, 'E_CONFIG');
    assert.ok(err.message.includes(name), err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('defaults match upstream (throttle 2/600, prune 360, presign 60) with a 100 MiB part size', () => {
  const c = loadPanelConfig({});
  assert.equal(c.databaseUrl, 'sqlite:./data/panel.sqlite');
  assert.equal(c.backupDriver, 'wings');
  assert.deepEqual(c.throttle, { limit: 2, periodSeconds: 600 });
  assert.equal(c.pruneAgeMinutes, 360);
  assert.equal(c.s3, undefined);
  assert.equal(c.appUrl, 'http://127.0.0.1:8000');
  assert.ok(Object.isFrozen(c));
});

test('S3 settings under upstream names', () => {
  const c = loadPanelConfig({
    APP_BACKUP_DRIVER: 's3', AWS_BACKUPS_BUCKET: 'b', AWS_DEFAULT_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's',
    AWS_ENDPOINT: 'http://127.0.0.1:9000', AWS_USE_PATH_STYLE_ENDPOINT: 'true', AWS_BACKUPS_STORAGE_CLASS: 'STANDARD_IA',
    BACKUP_PRESIGNED_URL_LIFESPAN: '30', BACKUP_THROTTLE_PERIOD: '0', BACKUP_PRUNE_AGE: '0', APP_URL: 'https://panel.example.com/',
  });
  assert.deepEqual(c.s3, {
    bucket: 'b', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000', accessKeyId: 'k', secretAccessKey: 's', forcePathStyle: true,
    maxPartSize: DEFAULT_MAX_PART_SIZE, presignedUrlLifespanMinutes: 30, storageClass: 'STANDARD_IA',
  });
  assert.equal(c.throttle.periodSeconds, 0);
  assert.equal(c.pruneAgeMinutes, 0);
  assert.equal(c.appUrl, 'https://panel.example.com');
  assert.equal(c.secureCookies, true);
  assert.equal(loadPanelConfig({ BACKUP_MAX_PART_SIZE: '0' }).s3, undefined);
});

test('invalid values give one clear line naming the variable', () => {
  configError({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
  configError({ APP_BACKUP_DRIVER: 'ftp' }, 'APP_BACKUP_DRIVER');
  configError({ APP_BACKUP_DRIVER: 's3' }, 'AWS_BACKUPS_BUCKET');
  configError({ BACKUP_THROTTLE_LIMIT: 'two' }, 'BACKUP_THROTTLE_LIMIT');
  configError({ BACKUP_PRUNE_AGE: '-1' }, 'BACKUP_PRUNE_AGE');
  configError({ PANEL_PORT: '70000' }, 'PANEL_PORT');
  configError({ APP_URL: 'ftp://x' }, 'APP_URL');
  configError({ AWS_BACKUPS_BUCKET: 'b', AWS_USE_PATH_STYLE_ENDPOINT: 'perhaps' }, 'AWS_USE_PATH_STYLE_ENDPOINT');
  configError({ BACKUP_MAX_PART_SIZE: '1024' }, 'BACKUP_MAX_PART_SIZE');
});

test('loadEnvFile reads KEY=VALUE lines; the real environment wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backwing-env-'));
  try {
    const file = join(dir, '.env');
    writeFileSync(file, '# comment\nexport APP_URL="http://panel.local:8080"\nBACKUP_THROTTLE_LIMIT=5 # five\nAWS_BACKUPS_BUCKET=\'my bucket\'\n\nPANEL_PORT=9000\n');
    const env = loadEnvFile(file, { PANEL_PORT: '9100' });
    assert.equal(env.APP_URL, 'http://panel.local:8080');
    assert.equal(env.BACKUP_THROTTLE_LIMIT, '5');
    assert.equal(env.AWS_BACKUPS_BUCKET, 'my bucket');
    assert.equal(env.PANEL_PORT, '9100');
    const c = loadPanelConfig(env);
    assert.equal(c.throttle.limit, 5);
    writeFileSync(file, 'not a pair\n');
    assert.throws(() => loadEnvFile(file, {}), /\.env:1/);
    assert.throws(() => loadEnvFile(join(dir, 'missing'), {}), /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('notification settings: defaults, lists, and one-line errors for bad values', () => {
  const d = loadPanelConfig({});
  assert.deepEqual(d.notify.webhookUrls, []);
  assert.equal(d.notify.webhookFormat, 'generic');
  assert.equal(d.notify.smtpUrl, undefined);
  assert.equal(d.notify.emailFrom, 'backwing@127.0.0.1');
  assert.deepEqual([d.notify.drainIntervalMs, d.notify.maxAttempts, d.notify.retryBaseSeconds], [5000, 8, 30]);
  const c = loadPanelConfig({
    NOTIFY_WEBHOOK_URLS: 'https://a.example/hook, http://b.example/x', NOTIFY_WEBHOOK_FORMAT: 'Discord', NOTIFY_WEBHOOK_SECRET: 's3cret',
    SMTP_URL: 'smtp://user:pw@mail.example:587', NOTIFY_EMAIL_TO: 'a@example.com b@example.com',
  });
  assert.deepEqual(c.notify.webhookUrls, ['https://a.example/hook', 'http://b.example/x']);
  assert.equal(c.notify.webhookFormat, 'discord');
  assert.deepEqual(c.notify.emailTo, ['a@example.com', 'b@example.com']);
  configError({ NOTIFY_WEBHOOK_URLS: 'ftp://x.example/' }, 'NOTIFY_WEBHOOK_URLS');
  configError({ NOTIFY_WEBHOOK_FORMAT: 'slack' }, 'NOTIFY_WEBHOOK_FORMAT');
  configError({ SMTP_URL: 'mail.example:25', NOTIFY_EMAIL_TO: 'a@example.com' }, 'SMTP_URL');
  configError({ SMTP_URL: 'smtp://mail.example' }, 'NOTIFY_EMAIL_TO');
  configError({ SMTP_URL: 'smtp://mail.example', NOTIFY_EMAIL_TO: 'nobody' }, 'NOTIFY_EMAIL_TO');
  configError({ NOTIFY_MAX_ATTEMPTS: '0' }, 'NOTIFY_MAX_ATTEMPTS');
});

test('TRUSTED_PROXIES: addresses and CIDR ranges, IPv4 and IPv6; anything else is refused', () => {
  assert.deepEqual(loadPanelConfig({}).trustedProxies, []);
  assert.deepEqual(loadPanelConfig({ TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,::1' }).trustedProxies, ['127.0.0.1', '10.0.0.0/8', '::1']);
  configError({ TRUSTED_PROXIES: 'proxy.example' }, 'TRUSTED_PROXIES');
  configError({ TRUSTED_PROXIES: '*' }, 'TRUSTED_PROXIES');
});
