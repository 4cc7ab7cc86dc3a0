import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeObject, paginationMeta } from './application-views.ts';
import { daemonListenFromUrl, nodeConfiguration } from './node-configuration.ts';

const node = (url: string) => ({ id: 1, uuid: 'u', name: 'n', url, maintenance: false, backupIgnore: null, createdAt: '2026-01-01T00:00:00.000Z' });

test('nodeObject splits the URL into upstream fqdn/scheme/daemon_listen', () => {
  assert.deepEqual(
    (({ fqdn, scheme, daemon_listen }) => ({ fqdn, scheme, daemon_listen }))(nodeObject(node('https://node.example.test')).attributes),
    { fqdn: 'node.example.test', scheme: 'https', daemon_listen: 443 },
  );
  assert.equal(nodeObject(node('http://[::1]:8080')).attributes.fqdn, '::1');
  assert.equal(nodeObject(node('http://10.0.0.5')).attributes.daemon_listen, 80);
});

test('daemon listen address: IPs as given, DNS names on all interfaces', () => {
  assert.deepEqual(daemonListenFromUrl('http://10.0.0.5:8080'), { host: '10.0.0.5', port: 8080 });
  assert.deepEqual(daemonListenFromUrl('http://[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(daemonListenFromUrl('https://node.example.test'), { host: '0.0.0.0', port: 443 });
  const conf = nodeConfiguration(node('https://node.example.test:8443'), { tokenId: 'tid', token: 'tok' }, 'https://panel.test/');
  assert.equal(conf.api.ssl.enabled, true);
  assert.equal(conf.remote, 'https://panel.test');
  assert.equal(conf.token, 'tok');
});

test('pagination meta: pages, links only where they exist, at least one page', () => {
  const first = paginationMeta({ total: 5, count: 2, page: 1, perPage: 2, baseUrl: 'http://p/api/application/users' }).pagination;
  assert.equal(first.total_pages, 3);
  assert.deepEqual(first.links, { next: 'http://p/api/application/users?page=2' });
  const mid = paginationMeta({ total: 5, count: 2, page: 2, perPage: 2, baseUrl: 'http://p/x' }).pagination;
  assert.deepEqual(mid.links, { previous: 'http://p/x?page=1', next: 'http://p/x?page=3' });
  const empty = paginationMeta({ total: 0, count: 0, page: 1, perPage: 50, baseUrl: 'http://p/x' }).pagination;
  assert.equal(empty.total_pages, 1);
  assert.deepEqual(empty.links, {});
});
