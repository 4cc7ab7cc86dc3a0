import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../core/secret-box.ts';
import { freshSqliteUrl } from '../../../test/support/postgres.ts';
import { createDatabase } from './database.ts';
import { migrateToLatest } from './migrate.ts';
import { transactionRunner } from './unit-of-work.ts';

test('SQLite transactions hold the write lock from the start, so a read-then-write cannot fail with "database is locked"', async () => {
  const url = freshSqliteUrl();
  const database = createDatabase(url);
  // Another process on the same file, which would not wait for a lock.
  let other: BetterSqlite3.Database | undefined;
  try {
    await migrateToLatest(database.db, new SecretBox([randomBytes(32)]));
    other = new BetterSqlite3(url.slice('sqlite:'.length));
    other.pragma('busy_timeout = 0');
    const at = new Date().toISOString();
    const tx = transactionRunner(database, new SecretBox([randomBytes(32)]));
    const id = await tx(async (repos) => {
      assert.equal(await repos.users.findByEmail('a@example.com'), undefined);
      // A deferred transaction holds only a read snapshot here: the other writer would get in,
      // and this transaction's own write below would then fail at once.
      assert.throws(() => other!.prepare("insert into users (uuid, email, username, password_hash, root_admin, created_at, updated_at) values ('u2', 'b@example.com', 'b', 'x', 0, ?, ?)").run(at, at), /database is locked/);
      const u = await repos.users.insert({ uuid: 'u1', email: 'a@example.com', username: 'a', password_hash: 'x', root_admin: false, at });
      return u.id;
    });
    assert.ok(id > 0);
    // Committed, and the lock is released for the other writer.
    other.prepare("insert into users (uuid, email, username, password_hash, root_admin, created_at, updated_at) values ('u2', 'b@example.com', 'b', 'x', 0, ?, ?)").run(at, at);
    // A failing transaction rolls back and releases the lock too.
    await assert.rejects(tx(async (repos) => {
      await repos.users.insert({ uuid: 'u3', email: 'c@example.com', username: 'c', password_hash: 'x', root_admin: false, at });
      throw new Error('boom');
    }), /boom/);
    assert.equal((other.prepare("select count(*) as n from users where email = 'c@example.com'").get() as { n: number }).n, 0);
    other.prepare("insert into users (uuid, email, username, password_hash, root_admin, created_at, updated_at) values ('u4', 'd@example.com', 'd', 'x', 0, ?, ?)").run(at, at);
  } finally {
    other?.close();
    await database.close();
  }
});
