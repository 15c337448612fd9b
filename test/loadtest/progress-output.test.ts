import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.js';
import { captureIO, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-loadtest-tty-');
let server: http.Server;

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeConfig(
    tmp.dir,
    demoConfigYaml({ store: `sqlite:${path.join(tmp.dir, 'state.db')}`, legacy: url, service: url }),
  );
  // What `serve` would have done: only it (or `strangler seed`) creates and seeds a store.
  expect(await run(['seed'], captureIO(tmp.dir).io)).toBe(0);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  tmp.cleanup();
});

describe('loadtest progress on a terminal', () => {
  it('draws a cli-progress bar per target on a TTY, and the report still goes to stdout', async () => {
    const c = captureIO(tmp.dir, {}, { stderr: true });
    const code = await run(
      ['loadtest', 'block', '--targets', 'legacy,service', '--duration', '1s', '--connections', '2'],
      c.io,
    );
    expect(code).toBe(0);
    const err = c.err();
    const out = c.out();
    expect(err).toMatch(/legacy {2}\(1\/2\) \[[\u2588\u2591]+\] 1\/1 s \| \d+ responses/);
    expect(err).toMatch(/service \(2\/2\) \[[\u2588\u2591]+\] 1\/1 s/);
    expect(err).not.toContain('running for');
    expect(out).toMatch(/^requests\/s\s+[\d.]+\s+[\d.]+\s+[\d.]+x$/m);
  });
});
