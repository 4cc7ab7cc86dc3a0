import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruMap } from './lru-map.ts';

test('the least recently used entry goes first; a get makes an entry recent, a peek does not; capacity 0 keeps nothing', () => {
  const m = new LruMap<string, number>(2);
  m.set('a', 1);
  m.set('b', 2);
  assert.equal(m.get('a'), 1);
  m.set('c', 3); // b is the oldest now
  assert.equal(m.peek('b'), undefined);
  assert.deepEqual([m.peek('a'), m.peek('c'), m.size], [1, 3, 2]);
  assert.equal(m.peek('a'), 1);
  m.set('d', 4); // peek did not refresh a
  assert.deepEqual([m.peek('a'), m.peek('c'), m.peek('d')], [undefined, 3, 4]);
  m.set('c', 30); // replacing refreshes
  m.set('e', 5);
  assert.deepEqual([m.peek('c'), m.peek('d'), m.peek('e')], [30, undefined, 5]);

  const none = new LruMap<string, number>(0);
  none.set('a', 1);
  assert.equal(none.size, 0);
});
