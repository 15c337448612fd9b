/**
 * Regression for issue 13 item 11: a CLI flip with Redis away took 10-18 s
 * to fail. Redis that accepts connections but does not answer (SIGSTOPped)
 * is the slow case; refused connections the fast one. Both now end with
 * STRANGLER_E_STORE, exit 5, within the open deadline (1.5 s) plus process
 * start-up. Real redis-server, the real bin.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';
import { cli } from './helpers.js';

const tmp = tempDir();
let redis: RedisServer;
let stoppedPid: number | undefined;

describe.skipIf(!redisAvailable())('a CLI command with Redis away', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    if (stoppedPid) process.kill(stoppedPid, 'SIGCONT');
    await redis?.close();
    tmp.cleanup();
  });

  it('fails with STRANGLER_E_STORE, exit 5, in seconds, when Redis does not answer or refuses', async () => {
    const config = writeConfig(tmp.dir, demoConfigYaml({ store: redis.url(0) }));
    expect((await cli(config, ['seed'])).code).toBe(0);
    stoppedPid = Number(
      execFileSync('pgrep', ['-f', `redis-server 127.0.0.1:${redis.port}`], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    );
    process.kill(stoppedPid, 'SIGSTOP');
    const silent = await cli(config, ['flip', 'block', 'shadow']);
    process.kill(stoppedPid, 'SIGCONT');
    stoppedPid = undefined;
    await redis.kill();
    const refused = await cli(config, ['flip', 'block', 'shadow']);
    console.log(
      `Redis not answering: exit ${silent.code} after ${silent.ms} ms; Redis refusing: exit ${refused.code} after ${refused.ms} ms`,
    );
    for (const r of [silent, refused]) {
      expect(r.code, r.err).toBe(5);
      expect(r.err).toContain('STRANGLER_E_STORE');
      // Generous for a loaded machine; the bug was 10-18 s.
      expect(r.ms).toBeLessThan(8000);
    }
  }, 60_000);
});
