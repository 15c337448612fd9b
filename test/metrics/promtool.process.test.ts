/**
 * `promtool check metrics` (Debian's prometheus package) on a real scrape of
 * a running proxy's /metrics: names, units, types and help follow the
 * Prometheus conventions it lints.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveProxy, startLiveProxy } from './live-proxy.js';

const PROMTOOL = process.env.STRANGLER_PROMTOOL ?? '/usr/bin/promtool';
const have = existsSync(PROMTOOL);
if (!have && process.env.CI !== 'true')
  console.warn(`promtool tests skipped: ${PROMTOOL} not found (apt-get install -y prometheus)`);

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, output: stdout + stderr });
    });
    child.stdin!.end(text);
  });
}

describe.runIf(have || process.env.CI === 'true')('promtool check metrics', () => {
  let live: LiveProxy;
  beforeAll(async () => {
    if (!have) throw new Error(`CI=true but ${PROMTOOL} is missing (apt-get install -y prometheus)`);
    live = await startLiveProxy();
  });
  afterAll(async () => {
    await live?.close();
  });

  it('passes on a real /metrics scrape with traffic, shadow evidence and failovers', async () => {
    const text = await live.scrape();
    // The scrape holds what the dashboard needs: data plane and store families alike.
    for (const name of [
      'strangler_requests_total',
      'strangler_request_duration_seconds_bucket',
      'strangler_failovers_total',
      'strangler_breaker_state',
      'strangler_route_mode',
      'strangler_shadow_match_ratio',
    ])
      expect(text, name).toMatch(new RegExp(`^${name}\\{`, 'm'));
    const { code, output } = await promtoolCheck(text);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('would catch a convention break (the check is live, not a formality)', async () => {
    const bad =
      '# HELP strangler_bad_seconds_ms A counter without _total in the wrong unit.\n# TYPE strangler_bad_seconds_ms counter\nstrangler_bad_seconds_ms 1\n';
    const { code, output } = await promtoolCheck(bad);
    expect(code).not.toBe(0);
    expect(output).toContain('_total');
  });
});
