import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute } from './router.ts';

test('parseRoute maps the panel paths the UI serves', () => {
  assert.deepEqual(parseRoute('/'), { name: 'servers' });
  assert.deepEqual(parseRoute('/login'), { name: 'login' });
  assert.deepEqual(parseRoute('/server/abcd1234/backups'), { name: 'backups', server: 'abcd1234' });
  assert.deepEqual(parseRoute('/server/abcd1234/backups/'), { name: 'backups', server: 'abcd1234' });
  assert.deepEqual(parseRoute('/server/abcd1234'), { name: 'backups', server: 'abcd1234' });
  assert.deepEqual(parseRoute('/server/a%20b/backups'), { name: 'backups', server: 'a b' });
  assert.deepEqual(parseRoute('/server/abcd1234/schedules'), { name: 'schedules', server: 'abcd1234' });
  assert.deepEqual(parseRoute('/nope'), { name: 'not-found', path: '/nope' });
});
