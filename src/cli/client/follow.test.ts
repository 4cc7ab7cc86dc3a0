import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followJob } from './follow.ts';
import type { PanelApi } from './panel-api.ts';
import { CliError } from '../../core/cli-error.ts';
import { EXIT } from './exit-codes.ts';
import type { BackupAttributes } from '../../wire/client-api.ts';

function backup(over: Partial<BackupAttributes> = {}): BackupAttributes {
  return {
    uuid: 'b', name: 'n', ignored_files: [], is_successful: false, is_locked: false, checksum: null,
    checksum_type: null, sha256_hash: null, bytes: 0, created_at: '2026-01-01T00:00:00+00:00', completed_at: null, failure_reason: null, ...over,
  };
}

/** A strict fake: only the calls polling makes; the websocket is refused, as by a panel without it. */
function fakeApi(getBackup: () => BackupAttributes): PanelApi {
  return {
    getBackup: async () => getBackup(),
    websocketCredentials: async () => {
      throw new CliError('no websocket here');
    },
  } as unknown as PanelApi;
}

test('polling alone sees the backup finish', async () => {
  let calls = 0;
  const api = fakeApi(() => (++calls < 3 ? backup() : backup({ completed_at: '2026-01-01T00:01:00+00:00', is_successful: true, bytes: 9 })));
  const r = await followJob({ api, server: 's', backup: 'b', kind: 'backup', pollIntervalMs: 5 });
  assert.equal(r.successful, true);
  assert.equal(r.via, 'poll');
  assert.equal(calls, 3);
});

test('a failed backup is reported as such, with a reason', async () => {
  const api = fakeApi(() => backup({ completed_at: '2026-01-01T00:01:00+00:00', is_successful: false }));
  const r = await followJob({ api, server: 's', backup: 'b', kind: 'backup', pollIntervalMs: 5 });
  assert.equal(r.successful, false);
  assert.match(r.error ?? '', /failed/);
});

test('--timeout gives up with exit code 4', async () => {
  const api = fakeApi(() => backup());
  await assert.rejects(followJob({ api, server: 's', backup: 'b', kind: 'backup', pollIntervalMs: 5, timeoutMs: 60 }), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.exitCode, EXIT.timeout);
    assert.match(err.message, /may still finish/);
    return true;
  });
});

test('Ctrl-C stops waiting with 130 and says the job goes on', async () => {
  const api = fakeApi(() => backup());
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(followJob({ api, server: 's', backup: 'b', kind: 'backup', pollIntervalMs: 10_000, signal: ac.signal }), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.exitCode, 130);
    assert.match(err.message, /keeps running/);
    return true;
  });
});
