import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../core/app-error.ts';
import { IgnoreMatcher, validateIgnore } from './ignore-rules.ts';

const m = (text: string) => IgnoreMatcher.from({ text, source: 'ignore' });

function check(patterns: string, cases: Array<[string, boolean, boolean?]>): void {
  const matcher = m(patterns);
  for (const [path, expected, isDir = false] of cases) {
    assert.equal(matcher.ignores(path, isDir), expected, `${JSON.stringify(patterns)} on ${path}${isDir ? '/' : ''}`);
  }
}

test('plain names match at any depth, files and directories alike', () => {
  check('cache', [
    ['cache', true],
    ['cache', true, true],
    ['a/cache', true],
    ['a/cache/x', true],
    ['cachex', false],
    ['xcache', false],
  ]);
});

test('wildcards: * and ? stay inside one segment, classes work', () => {
  check('*.log', [
    ['latest.log', true],
    ['logs/2024/x.log', true],
    ['x.log.gz', false],
    ['.log', true],
  ]);
  check('r.?.mca', [
    ['world/region/r.0.mca', true],
    ['world/region/r.10.mca', false],
  ]);
  check('file[0-9].txt\nname[!a].x', [
    ['file5.txt', true],
    ['filea.txt', false],
    ['nameb.x', true],
    ['namea.x', false],
  ]);
  check('a*b', [
    ['a/b', false],
    ['axxb', true],
  ]);
});

test('negation: last match wins; a file inside an ignored directory cannot be re-included', () => {
  check('*.log\n!keep.log', [
    ['logs/latest.log', true],
    ['logs/keep.log', false],
    ['server.jar', false],
  ]);
  check('logs/\n!logs/keep.log', [
    ['logs/keep.log', true],
    ['logs', true, true],
  ]);
  check('*.txt\n!important.txt\nimportant.txt', [['important.txt', true]]);
});

test('directory-only patterns and anchoring as git does', () => {
  check('logs/', [
    ['logs', true, true],
    ['logs', false],
    ['a/logs', true, true],
    ['logs/a.txt', true],
  ]);
  check('/build', [
    ['build', true],
    ['build', true, true],
    ['sub/build', false],
  ]);
  // an inner slash anchors the pattern at the root (unlike Wings' library)
  check('foo/bar', [
    ['foo/bar', true],
    ['x/foo/bar', false],
  ]);
  check('doc/*.txt', [
    ['doc/notes.txt', true],
    ['doc/sub/notes.txt', false],
  ]);
});

test('** spans directories', () => {
  check('**/plugins', [
    ['plugins', true, true],
    ['a/b/plugins', true, true],
  ]);
  check('world/**/r.*.mca', [
    ['world/r.0.0.mca', true],
    ['world/region/r.0.0.mca', true],
    ['world/a/b/c/r.1.1.mca', true],
    ['other/region/r.0.0.mca', false],
  ]);
  check('dynmap/**', [
    ['dynmap', false, true],
    ['dynmap/web/tiles/a.png', true],
    ['dynmap/x', true],
  ]);
  check('a/**/b/**/c', [
    ['a/b/c', true],
    ['a/x/y/b/z/c', true],
    ['a/c', false],
  ]);
});

test('regex metacharacters are literal (Wings later-upstream vectors)', () => {
  check('world (copy)/', [
    ['world (copy)/level.dat', true],
    ['world copy/level.dat', false],
  ]);
  check('c++/', [['c++/main.cpp', true]]);
  check('(a{100}){10}', [
    ['(a{100}){10}', true],
    ['aaaa', false],
  ]);
  check('a|b\n^x$\n.hidden', [
    ['a|b', true],
    ['a', false],
    ['^x$', true],
    ['x', false],
    ['.hidden', true],
    ['xhidden', false],
  ]);
});

test('comments, blank lines, escapes, CRLF and trailing spaces', () => {
  check('# comment\n\n\\#notcomment\n\\!bang\nspace\\ \nplain   \r\nwin.txt\r', [
    ['# comment', false],
    ['#notcomment', true],
    ['!bang', true],
    ['space ', true],
    ['plain', true],
    ['win.txt', true],
  ]);
  check('\\*literal', [
    ['*literal', true],
    ['xliteral', false],
  ]);
});

function expectCode(fn: () => void, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isAppError(err));
    assert.equal(err.code, code);
    assert.equal(err.status, 400);
    assert.ok(err.message.length > 10);
    return true;
  });
}

test('limits: size, pattern count, malformed patterns are clear 400 errors', () => {
  expectCode(() => validateIgnore('a'.repeat(32 * 1024 + 1)), 'E_IGNORE_TOO_LARGE');
  expectCode(() => validateIgnore(Array.from({ length: 1001 }, (_, i) => `p${i}`).join('\n')), 'E_IGNORE_TOO_MANY_PATTERNS');
  // comments and blank lines do not count
  validateIgnore(`${Array.from({ length: 1000 }, (_, i) => `p${i}`).join('\n')}\n# c\n\n`);
  expectCode(() => validateIgnore('ok\nbad[abc'), 'E_IGNORE_PATTERN');
  expectCode(() => validateIgnore('trailing\\'), 'E_IGNORE_PATTERN');
  expectCode(() => validateIgnore('*a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q'), 'E_IGNORE_PATTERN');
  validateIgnore('');
  validateIgnore('*.log\n!keep.log\nworld/**/r.*.mca');
});

test('hostile patterns within the limits stay fast (no backtracking blow-up)', () => {
  // 1000 patterns of many stars against long names: linear-time matching keeps this well below a second
  const hostile = Array.from({ length: 900 }, (_, i) => `${'*a'.repeat(15)}*b${i}`).join('\n');
  assert.ok(Buffer.byteLength(hostile) <= 32 * 1024);
  const matcher = m(hostile);
  const name = 'a'.repeat(255);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) assert.equal(matcher.ignores(`dir/${name}`, false), false);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // Not a speed benchmark: a generous bound that only a catastrophic (exponential) matcher exceeds.
  assert.ok(ms < 20_000, `matching took ${ms} ms`);
});

test('a segment of three or more stars is `**`, as in git (found by the comparison with `ignore`)', () => {
  check('***/x\n/a/****/y', [
    ['x', true],
    ['a/b/x', true],
    ['a/y', true],
    ['a/b/c/y', true],
    ['b/y', false],
  ]);
});
