/**
 * Regression for issue 13 item 1: every open ran the migrations in a write
 * transaction, so opening the store while another process held the write
 * lock (a proxy flushing, a CLI flipping) waited, then failed with
 * SQLITE_BUSY. Now an up-to-date file is opened without writing: here
 * another connection holds the write lock for the whole open and read.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, openSqliteStore } from '../../store/sqlite/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-open-');
afterAll(() => tmp.cleanup());

describe('opening a SQLite store while another connection holds the write lock', () => {
  it('opens and reads at once: an up-to-date schema is not migrated again', async () => {
    const file = `${tmp.dir}/state.db`;
    const first = openSqliteStore(file);
    await first.routes.seed([{ id: 'block', mode: 'shadow', weight: 0 }], 'config');
    await first.close();

    const writer = new Database(file);
    expect(writer.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    writer.prepare('BEGIN IMMEDIATE').run();
    try {
      const t0 = Date.now();
      const store = openSqliteStore(file, { create: false });
      try {
        expect(await store.routes.get('block')).toMatchObject({ mode: 'shadow' });
        expect((await store.integrity()).state).toBe('ok');
      } finally {
        await store.close();
      }
      // Generous: the old code waited busy_timeout (5 s) and then threw.
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      writer.prepare('ROLLBACK').run();
      writer.close();
    }
  });
});
