import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/free-port.js';
import { run } from '../../cli/main.js';
import { captureIO, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-loadtest-down-');
let legacy: net.Server;
let port: number;

beforeAll(async () => {
  // A live legacy (it only has to accept) so the refusal is the proxy's alone;
  // the probe hangs up at once, so a reset on this side is expected.
  legacy = net.createServer((s) => s.on('error', () => {}).end());
  await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
  // A port that was just listening and is now closed: nothing accepts there.
  port = await freePort();
  writeConfig(
    tmp.dir,
    demoConfigYaml({
      store: `sqlite:${path.join(tmp.dir, 'state.db')}`,
      legacy: `http://127.0.0.1:${(legacy.address() as net.AddressInfo).port}`,
      listen: `127.0.0.1:${port}`,
    }),
  );
  // What `serve` would have done: only it (or `strangler seed`) creates and seeds a store.
  expect(await run(['seed'], captureIO(tmp.dir).io)).toBe(0);
});

afterAll(async () => {
  await new Promise<void>((resolve) => legacy.close(() => resolve()));
  tmp.cleanup();
});

describe('strangler loadtest when the proxy is not running', () => {
  it('says the proxy at config listen is not reachable, sends no load and saves nothing', async () => {
    const c = captureIO(tmp.dir);
    const code = await run(['loadtest', 'block', '--targets', 'legacy,proxy', '--duration', '1s'], c.io);
    expect(code).toBe(1);
    expect(c.out()).toBe('');
    expect(c.err()).toContain('STRANGLER_E_TARGET_UNREACHABLE');
    expect(c.err()).toContain(`proxy at http://127.0.0.1:${port} is not reachable (ECONNREFUSED)`);
    expect(c.err()).toContain('strangler proxy (config listen)');
    // Probing happens before any load: legacy was never driven.
    expect(c.err()).not.toContain('running for');
    const report = captureIO(tmp.dir);
    expect(await run(['report', 'loadtest', 'block'], report.io)).toBe(2);
    expect(report.err()).toContain('no saved load test for route "block"');
  });
});
