import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createPanelMetrics, metricsPlugin } from './metrics.plugin.ts';

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('metrics: service events, DB gauge and per-route request counts appear at /metrics', async () => {
  let inProgress = 3;
  const metrics = createPanelMetrics({ backupsInProgress: async () => inProgress });
  const app = Fastify();
  await app.register(metricsPlugin, { metrics });
  app.get('/api/client/servers/:server', async () => ({ ok: true }));
  try {
    await app.inject('/api/client/servers/abc');
    await app.inject('/api/client/servers/def');
    await app.inject('/nope');

    metrics.backupStarted('wings');
    metrics.backupStarted('s3');
    metrics.backupFinished({ driver: 'wings', successful: true, bytes: 1000, durationSeconds: 12 });
    metrics.backupFinished({ driver: 's3', successful: false, bytes: 0, durationSeconds: null });
    metrics.restoreFinished(true);
    metrics.restoreFinished(false);
    metrics.restoreFinished(false);

    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain/);
    const t = res.body;
    assert.equal(sample(t, 'backwing_panel_backups_total', '{driver="wings",outcome="started"}'), 1);
    assert.equal(sample(t, 'backwing_panel_backups_total', '{driver="wings",outcome="successful"}'), 1);
    assert.equal(sample(t, 'backwing_panel_backups_total', '{driver="s3",outcome="failed"}'), 1);
    assert.equal(sample(t, 'backwing_panel_restores_total', '{outcome="successful"}'), 1);
    assert.equal(sample(t, 'backwing_panel_restores_total', '{outcome="failed"}'), 2);
    assert.equal(sample(t, 'backwing_panel_backup_bytes_total'), 1000);
    assert.equal(sample(t, 'backwing_panel_backup_duration_seconds_count', '{driver="wings",outcome="successful"}'), 1);
    assert.equal(sample(t, 'backwing_panel_backup_duration_seconds_sum', '{driver="wings",outcome="successful"}'), 12);
    assert.equal(sample(t, 'backwing_panel_backups_in_progress'), 3);
    assert.equal(sample(t, 'backwing_panel_http_requests_total', '{route="/api/client/servers/:server",status="200"}'), 2);
    assert.equal(sample(t, 'backwing_panel_http_requests_total', '{route="unmatched",status="404"}'), 1);
    assert.ok(!t.includes('route="/metrics"'), 'scrapes are not counted');

    inProgress = 0;
    const again = await app.inject('/metrics');
    assert.equal(sample(again.body, 'backwing_panel_backups_in_progress'), 0, 'the gauge is read at scrape time');
  } finally {
    await app.close();
  }
});

test('two metric registries in one process do not share counters', async () => {
  const a = createPanelMetrics();
  const b = createPanelMetrics();
  a.restoreFinished(true);
  const tb = await b.registry.metrics();
  assert.equal(sample(tb, 'backwing_panel_restores_total', '{outcome="successful"}'), undefined);
  const ta = await a.registry.metrics();
  assert.equal(sample(ta, 'backwing_panel_restores_total', '{outcome="successful"}'), 1);
});
