import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resticSizeText } from './restic-size.ts';

test('a restic backup shows what it added and the repository total; a tar.gz backup nothing extra', () => {
  assert.deepEqual(resticSizeText({ bytes_added: 5 * 1024 * 1024, repository_size: 2 * 1024 * 1024 * 1024 }), { added: '+5.00 MiB added', total: '2.00 GiB in repository' });
  assert.deepEqual(resticSizeText({ bytes_added: 0, repository_size: null }), { added: '+0 Bytes added', total: null });
  assert.equal(resticSizeText({ bytes_added: null, repository_size: null }), null);
  assert.equal(resticSizeText({}), null);
});
