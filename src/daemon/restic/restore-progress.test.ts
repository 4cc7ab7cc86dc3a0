/**
 * Restore progress without restic's help (0.14 prints none): a child's write counter, read from
 * /proc; with restic 0.16+ its JSON status lines instead (a stand-in binary speaks them here, since
 * Debian's 0.14 cannot). And the `restic ls` → browse entry mapping and `--include` escaping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesWrittenBy, sampleWrites } from './restore-progress.ts';
import { ResticService } from './restic-service.ts';
import { entryOfResticNode, resticIncludeOf } from './restic-tree.ts';

test('the write counter of a child that wrote 3 MB says at least 3 MB, and the sampler passes it on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-restic-progress-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out');
  // Writes, then waits on its stdin until the test is done reading its counter.
  const child = spawn(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(file)}, Buffer.alloc(3000000)); process.stdin.resume()`], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(() => child.kill());
  while ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) < 3_000_000) await sleep(20);
  const seen: number[] = [];
  const stop = sampleWrites(child.pid!, 10, (n) => seen.push(n));
  while (seen.length === 0) await sleep(10);
  stop();
  assert.ok(seen[0]! >= 3_000_000, `wchar ${seen[0]}`);
  assert.equal(await bytesWrittenBy(2 ** 30), null, 'no such process: no figure');
});

test('restic 0.16+: restore --json status lines are the progress (a stand-in binary speaking restic\'s JSON)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-restic-json-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'restic');
  writeFileSync(bin, [
    '#!/bin/sh',
    'case "$1" in',
    '  version) echo "restic 0.17.3 compiled with go1.22.4 on linux/amd64" ;;',
    '  restore)',
    '    case "$*" in *--json*) ;; *) echo "no --json" >&2; exit 1 ;; esac',
    '    echo \'{"message_type":"status","seconds_elapsed":1,"percent_done":0.25,"total_files":4,"files_restored":1,"total_bytes":4000,"bytes_restored":1000}\'',
    '    echo \'{"message_type":"status","seconds_elapsed":2,"percent_done":1,"total_files":4,"files_restored":4,"total_bytes":4000,"bytes_restored":4000}\'',
    '    echo \'{"message_type":"summary","seconds_elapsed":2,"total_files":4,"files_restored":4,"total_bytes":4000,"bytes_restored":4000}\' ;;',
    'esac',
  ].join('\n'));
  chmodSync(bin, 0o755);
  const restic = new ResticService({ bin, cacheDir: dir });
  const seen: Array<[number, number | null]> = [];
  await restic.restoreInto({ repository: '/nowhere', password: 'x' }, 'abcd', join(dir, 'target'), new AbortController().signal, { totalBytes: 3900, onProgress: (done, total) => seen.push([done, total]) });
  assert.deepEqual(seen, [[1000, 4000], [4000, 4000]]);
});

test('restic ls nodes become browse entries; --include patterns match only the chosen name', () => {
  const node = { name: 'r.0.0.mca', type: 'file', path: '/world/region/r.0.0.mca', size: 300000, mode: 420, mtime: '2026-11-27T21:23:33.307956415Z', struct_type: 'node' };
  assert.deepEqual(entryOfResticNode(node, 3), { path: 'world/region/r.0.0.mca', type: 'file', size: 300000, mode: 0o644, mtime: Math.floor(Date.parse('2026-11-27T21:23:33Z') / 1000), tarOffset: 3 });
  assert.equal(entryOfResticNode({ ...node, type: 'dir', mode: 2147484141, path: '/world' }, 0)!.mode, 0o755);
  assert.equal(entryOfResticNode({ struct_type: 'snapshot', id: 'abcd' }, 0), null);
  assert.equal(entryOfResticNode({ ...node, type: 'fifo' }, 0)!.type, 'other');
  assert.equal(resticIncludeOf('plugins/we[i]rd*?.yml'), '/plugins/we\\[i]rd\\*\\?.yml');
  assert.equal(resticIncludeOf('a\\b'), '/a\\\\b');
});
