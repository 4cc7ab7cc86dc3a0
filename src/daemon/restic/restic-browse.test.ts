import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IndexEntry } from '../../archive/index.ts';
import type { ResticRepo } from './restic-cli.ts';
import { ResticBrowse } from './restic-browse.ts';
import type { ResticService } from './restic-service.ts';

/** restic stand-in: backup `b<n>` is snapshot `s<n>` with `sizes[n]` files; counts the listings made. */
function fakeRestic(sizes: number[]) {
  const listed: string[] = [];
  const restic = {
    async findSnapshot(_repo: ResticRepo, _server: string, backup: string) {
      return { id: backup.replace('b', 's'), size: null };
    },
    async list(_repo: ResticRepo, snapshotId: string): Promise<IndexEntry[]> {
      listed.push(snapshotId);
      const n = sizes[Number(snapshotId.slice(1))]!;
      return Array.from({ length: n }, (_, i) => ({ path: `f${i}`, type: 'file' as const, size: 1, mode: 0o644, mtime: 0, tarOffset: i }));
    },
  } as unknown as ResticService;
  return { restic, listed };
}

const repo = { repository: '/repo', password: 'x' } as unknown as ResticRepo;

test('listings are kept by snapshot, bounded by count and by entries, least recently used out first', async () => {
  const { restic, listed } = fakeRestic([100, 200, 300, 50, 1000]);
  const browse = new ResticBrowse(restic, { keep: 3, keepEntries: 600 });

  for (const b of ['b0', 'b1', 'b2']) await browse.open(repo, 'srv', b);
  assert.deepEqual(browse.held, { listings: 3, entries: 600 });
  await browse.open(repo, 'srv', 'b0');
  assert.deepEqual(listed, ['s0', 's1', 's2'], 'a snapshot never changes: listed once');

  await browse.open(repo, 'srv', 'b3'); // 4 listings > 3: the least recently used (s1) goes
  assert.deepEqual(browse.held, { listings: 3, entries: 100 + 300 + 50 });
  await browse.open(repo, 'srv', 'b1');
  assert.equal(listed.at(-1), 's1', 'evicted, so listed again');
  assert.deepEqual(browse.held, { listings: 3, entries: 100 + 50 + 200 }, 'over 600 entries: s2 (300, least recent) left');

  const big = await browse.open(repo, 'srv', 'b4');
  assert.equal(big.view.index.entries.length, 1000);
  assert.deepEqual(browse.held, { listings: 1, entries: 1000 }, 'the listing just asked for stays whatever its size; the others go');
});
