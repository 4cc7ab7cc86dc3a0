import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { lazyRequestLogger } from './lazy-request-logger.ts';

test('a request logger writes what a pino child would, and makes the child only for a message at an enabled level', () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
  const parent = pino({ level: 'warn' }, sink);
  let made = 0;
  // pino's children inherit from their parent: the spy keeps `this`, so a grandchild is still the child's.
  const child = parent.child;
  parent.child = function (this: typeof parent, ...a: Parameters<typeof child>) { made++; return child.apply(this, a); } as typeof parent.child;

  const log = lazyRequestLogger(parent, { reqId: 'req-1' }, {});
  log.info({ req: 'ignored' }, 'incoming request');
  log.debug('nothing');
  assert.equal(made, 0, 'no child for messages below the level');
  assert.equal(lines.length, 0);
  assert.equal(log.level, 'warn');

  log.error({ code: 'E_X' }, 'request failed');
  log.warn('again');
  assert.equal(made, 1, 'one child, made once');
  assert.deepEqual(lines.map((l) => [l.reqId, l.msg, l.level]), [['req-1', 'request failed', 50], ['req-1', 'again', 40]]);
  assert.equal(lines[0]!.code, 'E_X');
  log.child({ extra: 1 }).error('from a grandchild');
  assert.deepEqual([lines[2]!.reqId, lines[2]!.extra, lines[2]!.msg], ['req-1', 1, 'from a grandchild']);
});
