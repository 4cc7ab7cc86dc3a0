import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPanelClient } from './panel-client.ts';
import { parseDaemonConfig } from '../config.ts';
import { parseWingsConfig } from '../wings-config.ts';

test('an upstream panel gets Wings\' report fields only; the backwing panel gets everything', async () => {
  const seen: Array<{ path: string; body: unknown }> = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const remote = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const yaml = `uuid: n\ntoken_id: id\ntoken: ${'t'.repeat(32)}\nremote: ${remote}\n`;
  const signal = new AbortController().signal;
  try {
    const backup = { successful: false, checksum: '', checksum_type: '', size: 0, parts: null, failure_reason: 'disk full', changed_files: { count: 1, names: ['a'] } };
    const restore = { successful: false, failure_reason: 'cancelled' };
    const upstream = new HttpPanelClient(parseWingsConfig(yaml, '/etc/pterodactyl/config.yml'), signal);
    assert.equal(await upstream.post('/backups/b1', backup), 204);
    assert.equal(await upstream.post('/backups/b1/restore', restore), 204);
    assert.equal(await upstream.post('/servers/reset', null), 204);
    const ours = new HttpPanelClient(parseDaemonConfig(yaml, 'daemon.yml'), signal);
    assert.equal(await ours.post('/backups/b2', backup), 204);
    assert.deepEqual(seen, [
      { path: '/api/remote/backups/b1', body: { successful: false, checksum: '', checksum_type: '', size: 0, parts: null } },
      { path: '/api/remote/backups/b1/restore', body: { successful: false } },
      { path: '/api/remote/servers/reset', body: null },
      { path: '/api/remote/backups/b2', body: backup },
    ]);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
