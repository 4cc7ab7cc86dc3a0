/**
 * The hand-written matcher against the reference: the `ignore` package (gitignore semantics, a dev
 * dependency used only here). Thousands of random pattern lists and paths from a seeded PRNG, so a
 * failure names its seed and replays exactly. Every disagreement is either fixed in
 * ignore-rules.ts or listed below as deliberate.
 *
 * Deliberate differences (also in docs/reconciliation.md, "Ignore patterns"):
 * - A pattern ending in a lone backslash, or with a `[` class that never closes, is refused with a
 *   400 (E_IGNORE_PATTERN) instead of being guessed at; `ignore` quietly drops or reinterprets it.
 *   The generator produces such patterns on purpose and the test checks they are refused, not matched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ignore from 'ignore';
import { IgnoreMatcher } from './ignore-rules.ts';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces chosen to hit every rule: wildcards, classes (odd ones too), escapes, spaces, `#`, `!`. */
const ATOMS = ['a', 'b', 'c', '.', '*', '?', '[ab]', '[!a]', '[^a]', '[a-c]', 'ab', 'x', '**', '***', '\\*', '\\?', '\\[', '[]a]', '[a-]', '[!]a]', ' ', '\\ ', '#', '\\#', '\\!', '!', '[.]', '[*]', 'a\\', '[\\]]', '[a\\-c]', '['];
const NAMES = ['a', 'b', 'c', 'ab', 'ba', 'a.b', '.a', 'abc', 'x', 'aa', '#a', ' a', 'a ', '!a', '*', '[a]'];

function generator(seed: number) {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const segment = () => (rnd() < 0.12 ? '**' : Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(ATOMS)).join(''));
  const pattern = () => {
    let p = rnd() < 0.2 ? '!' : '';
    if (rnd() < 0.2) p += '/';
    p += Array.from({ length: 1 + Math.floor(rnd() * 3) }, segment).join('/');
    if (rnd() < 0.2) p += '/';
    if (rnd() < 0.05) p += '  ';
    return p;
  };
  return {
    list: () => Array.from({ length: 1 + Math.floor(rnd() * 4) }, pattern).join(rnd() < 0.1 ? '\r\n' : '\n'),
    path: (): [string, boolean] => [Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(NAMES)).join('/'), rnd() < 0.3],
  };
}

for (const seed of [1, 20260101, 424242]) {
  test(`agrees with the ignore package on 3,000 random lists × 20 paths (seed ${seed})`, () => {
    const gen = generator(seed);
    const differences: string[] = [];
    let compared = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const text = gen.list();
      let mine: IgnoreMatcher;
      try {
        mine = IgnoreMatcher.from({ text, source: 'ignore' });
      } catch (err) {
        // Deliberate: refused, never guessed. Only for these two shapes.
        assert.match(String((err as Error).message), /lone backslash|unterminated \[ class/, `seed ${seed} list ${i}: ${JSON.stringify(text)}`);
        refused++;
        continue;
      }
      const reference = ignore().add(text);
      for (let j = 0; j < 20; j++) {
        const [path, isDir] = gen.path();
        compared++;
        const a = mine.ignores(path, isDir);
        const b = reference.ignores(isDir ? `${path}/` : path);
        if (a !== b) differences.push(`${JSON.stringify(text)} on ${path}${isDir ? '/' : ''}: ours ${a}, ignore ${b}`);
      }
    }
    assert.ok(compared > 40_000, `only ${compared} comparisons`);
    assert.ok(refused > 0 && refused < 1200, `${refused} lists refused`);
    assert.deepEqual(differences.slice(0, 20), [], `${differences.length} differences (seed ${seed})`);
  });
}
