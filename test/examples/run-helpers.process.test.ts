import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMonolith } from '../../examples/run.js';
import { call } from './http-json.js';

describe('examples/run.ts monolith lifecycle', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-run-'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the data across restarts and exits 0 on SIGTERM with an idle keep-alive connection', async () => {
    const dbPath = path.join(dir, 'keep.db');
    const first = await startMonolith({ dbPath });
    try {
      expect(first.url).toBe(`http://127.0.0.1:${first.port}`);
      expect((await call(first.url, 'POST', '/api/block/30', { target: 31 })).status).toBe(201);
    } finally {
      await first.stop();
    }
    expect(first.process.exitCode).toBe(0);
    expect(first.stderr()).toContain('seeded');

    const second = await startMonolith({ dbPath });
    try {
      // fetch keeps its connection open: shutdown must not wait for it.
      expect((await call(second.url, 'GET', '/api/block/30/31')).body.blocked).toBe(true);
    } finally {
      await second.stop();
    }
    expect(second.process.exitCode).toBe(0);
    expect(second.stderr()).not.toContain('seeded');
  });

  it('removes its temporary database when none was given', async () => {
    const app = await startMonolith();
    expect(existsSync(app.dbPath)).toBe(true);
    await app.stop();
    expect(existsSync(app.dbPath)).toBe(false);
  });

  it("rejects with the child's stderr when the monolith cannot start", async () => {
    const bad = path.join(dir, 'no-such-dir', 'x.db');
    await expect(startMonolith({ dbPath: bad })).rejects.toThrow(
      /monolith exited \(code 1\) before listening[\s\S]*cannot open database/,
    );
  });
});
