/**
 * The restic translation of the ignore lists against the tar.gz path itself: the same tree is
 * archived by createArchiveFile and backed up by the real restic with resticExcludes(), and the
 * two listings must name the same files. The one documented difference: a directory-only rule
 * (`logs/`) keeps the directory in the snapshot, empty.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createArchiveFile, listArchive } from './index.ts';
import { resticExcludes } from './ignore-rules-restic.ts';

let base: string;
let root: string;
const ENV = { ...process.env, RESTIC_PASSWORD: 'test-only', RESTIC_REPOSITORY: '' };

const TREE = [
  'server.properties', 'a.log', 'logs/latest.log', 'logs/old/1.log.gz', 'logs2', 'x/logs', 'x/y/logs/z.txt',
  'cache/c.bin', 'a/b/cache/deep.bin', 'a/cache', 'world/level.dat', 'world/region/r.0.0.mca', 'world/region/r.0.1.mca',
  'world_nether/region/r.1.mca', 'tmp/t', 'plugins/p.jar', 'plugins/sub/q.yml', 'deep/a/b/c/d.txt', 'deep/d.txt',
  'a.txt', 'b1.txt', 'c.txt', 'ab.dat', 'cd.dat', 'xd.dat', '[a]', '*star', 'name with space ', '.hidden/h',
  'srv/x', 'emptyish/keep', 'back\\slash', 'q?mark', 'dash-a', 'caret^b',
];

/** Cases: [request list, .pteroignore, directories a dir-only rule keeps (empty) in the snapshot]. */
const CASES: Array<[string, string, string[]]> = [
  ['*.log\ncache/', '', ['cache', 'a/b/cache']],
  ['/world/region\n**/tmp\nplugins/**', '', []],
  ['[ab]*.txt\n[!c]?.dat\n\\*star\nname with space\\ \n\\[a]', '', []],
  ['deep/**/d.txt\n*/b\n.hidden', 'logs/', ['logs', 'x/y/logs']],
  // `srv` and `restic-ignore-*` are components of the server directory's own path: an
  // unanchored rule must not match above the root.
  ['srv\nrestic-ignore-*\nworld*', '', []],
  ['/*.txt\na/**\nback\\\\slash\nq\\?mark\n[\\]a-]*\n[^b]aret^b', '', []],
  ['world/**/r.0.*.mca\nx/**/logs/\n/logs2/', '', ['x/y/logs']],
];

function restic(args: string[], repo: string, cwd?: string): string {
  return execFileSync('restic', args, { env: { ...ENV, RESTIC_REPOSITORY: repo }, cwd, encoding: 'utf8' });
}

async function tarNames(archive: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const e of listArchive(createReadStream(archive))) out.add(e.name.replace(/\/$/, ''));
  return out;
}

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'restic-ignore-')));
  root = join(base, 'world', 'srv');
  for (const rel of TREE) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), rel);
  }
});

after(() => rmSync(base, { recursive: true, force: true }));

test('restic leaves out the same files as the tar.gz path, case by case (real restic, real archive)', async () => {
  const repo = join(base, 'repo');
  restic(['init'], repo);
  writeFileSync(join(root, '.pteroignore'), '');
  await createArchiveFile(root, join(base, 'all.tar.gz'));
  const all = (await tarNames(join(base, 'all.tar.gz'))).size;
  for (const [i, [ignore, pteroignore, emptyDirs]] of CASES.entries()) {
    writeFileSync(join(root, '.pteroignore'), pteroignore);
    const archive = join(base, `case-${i}.tar.gz`);
    await createArchiveFile(root, archive, { ignore });
    const tar = await tarNames(archive);
    const excludes = resticExcludes(root, { text: pteroignore, source: '.pteroignore' }, { text: ignore, source: 'ignore' });
    const summary = JSON.parse(restic(['backup', '--json', '--quiet', '--tag', `case-${i}`, ...excludes.flatMap((e) => ['--exclude', e]), '.'], repo, root).trim().split('\n').pop()!);
    const listed = restic(['ls', '--json', summary.snapshot_id], repo).trim().split('\n').map((l) => JSON.parse(l)).filter((n) => n.struct_type === 'node');
    const snap = new Set<string>(listed.map((n: { path: string }) => n.path.replace(/^\//, '')));
    const onlyRestic = [...snap].filter((p) => !tar.has(p)).sort();
    const onlyTar = [...tar].filter((p) => !snap.has(p)).sort();
    assert.deepEqual(onlyTar, [], `case ${i} (${JSON.stringify(ignore)}): the snapshot lacks what the archive has`);
    assert.deepEqual(onlyRestic, [...emptyDirs].sort(), `case ${i} (${JSON.stringify(ignore)}): the snapshot has more than the archive`);
    // The empty directories really are empty.
    for (const d of emptyDirs) assert.equal(listed.filter((n: { path: string }) => n.path.startsWith(`/${d}/`)).length, 0, `${d} is empty in case ${i}`);
    // Something was left out in every case, so the comparison is not vacuous.
    assert.ok(tar.size < all, `case ${i} excluded nothing`);
  }
});

test('negations are refused with a clear 400, naming the pattern and the list it came from', () => {
  for (const [list, source] of [['*.txt\n!keep.txt', 'ignore'], ['logs/\n!logs/latest.log', '.pteroignore']] as const) {
    assert.throws(
      () => resticExcludes('/srv/x', { text: list, source }),
      (err: Error & { status?: number; code?: string }) => err.status === 400 && err.code === 'E_IGNORE_RESTIC' && err.message.includes(source) && err.message.includes('!'),
    );
  }
  // Escaped `\!` is a literal name, not a negation.
  assert.deepEqual(resticExcludes('/srv', { text: '\\!important', source: 'ignore' }), ['/srv/**/!important']);
});

test('patterns are anchored at the server directory and escape its special characters', () => {
  assert.deepEqual(resticExcludes('/data/[x]*?', { text: 'a\n/b\nc/d/\ne/**', source: 'ignore' }), [
    '/data/\\[x\\]\\*\\?/**/a',
    '/data/\\[x\\]\\*\\?/b',
    '/data/\\[x\\]\\*\\?/c/d/*',
    '/data/\\[x\\]\\*\\?/e/**/*',
  ]);
  // The tar path's limits and parse errors apply unchanged.
  assert.throws(() => resticExcludes('/srv', { text: 'a[', source: 'ignore' }), /unterminated/);
});
