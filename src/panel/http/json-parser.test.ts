import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { normaliseBody } from './json-parser.ts';

test('trims strings, turns "" into null, leaves passwords alone', () => {
  assert.deepEqual(normaliseBody({ name: '  x  ', ignored: '', password: ' p ', list: [' a ', ''] }), { name: 'x', ignored: null, password: ' p ', list: ['a', null] });
});

test('a null is kept where the schema allows it and removed where it does not (so "required" fires)', () => {
  const schema = Type.Object({
    truncate: Type.Boolean(),
    name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    nested: Type.Optional(Type.Object({ flag: Type.Boolean() })),
  });
  assert.deepEqual(normaliseBody({ truncate: null, name: null, nested: { flag: '' } }, schema), { name: null, nested: {} });
  // No schema for a property (loose bodies): nulls stay meaningful, e.g. feature_limits.backups = null → 0.
  assert.deepEqual(normaliseBody({ feature_limits: { backups: null } }, Type.Object({}, { additionalProperties: true })), { feature_limits: { backups: null } });
  assert.deepEqual(normaliseBody({ a: null }), { a: null });
});
