import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exceedsDepth, exceedsMembers, parseBoundedJson } from './json-limits.ts';

test('depth is counted on the text, ignoring brackets inside strings and escaped quotes', () => {
  assert.equal(exceedsDepth('[[[]]]', 3), false);
  assert.equal(exceedsDepth('[[[[]]]]', 3), true);
  assert.equal(exceedsDepth('{"a":"[[[[[[\\"[[[["}', 1), false);
  assert.equal(exceedsDepth('['.repeat(1_000_000), 64), true);
});

test('members are counted across the whole value without recursion', () => {
  assert.equal(exceedsMembers({ a: [1, 2], b: { c: 3 } }, 5), false);
  assert.equal(exceedsMembers({ a: [1, 2], b: { c: 3 } }, 4), true);
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.equal(exceedsMembers(deep, 300_000), false);
});

test('parseBoundedJson: value, problem, or SyntaxError', () => {
  assert.deepEqual(parseBoundedJson('{"a":1}'), { value: { a: 1 } });
  assert.deepEqual(parseBoundedJson('[[[1]]]', { depth: 2 }), { problem: { kind: 'depth', limit: 2 } });
  assert.deepEqual(parseBoundedJson('[1,2,3]', { members: 2 }), { problem: { kind: 'members', limit: 2 } });
  assert.throws(() => parseBoundedJson('{"a":'), SyntaxError);
});
