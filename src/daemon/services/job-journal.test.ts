import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobJournal } from './job-journal.ts';

test('leftovers keeps well-formed entries and removes torn, null or foreign ones without throwing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-journal-'));
  try {
    const journal = new JobJournal(dir);
    await journal.init();
    const id = await journal.add({ kind: 'backup', server_uuid: 's', backup_uuid: 'b', adapter: 'wings', started_at: 't' });
    for (const [name, text] of [['torn.json', '{"kind":"bac'], ['null.json', 'null'], ['number.json', '5'], ['shape.json', '{"kind":"other","backup_uuid":"b"}']]) {
      writeFileSync(join(dir, 'jobs', name!), text!);
    }
    const left = await journal.leftovers();
    assert.deepEqual(left.map((l) => l.id), [id]);
    assert.equal(left[0]!.entry.backup_uuid, 'b');
    assert.deepEqual(readdirSync(join(dir, 'jobs')), [id]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
