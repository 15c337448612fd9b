/**
 * Issue 25 (case 4): `/readyz` waits for the upstreams the current modes send
 * traffic to, not for every declared one. Before the fix the repository's
 * example config (examples/strangler.yaml) never turned ready: it declares
 * feed-service before it is written (and block-service is not started in
 * this test either), so the readiness probe `strangler export k8s` writes
 * would keep every pod out of service. A flip to canary adds the service it
 * routes to, and the reason names it. Real processes: `strangler serve` on
 * the example config (ports and legacy URL rewritten), the CLI's flip.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../examples/run.js';
import { runBin, type Served, startServe } from '../helpers/bin.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-readyz-');
let legacy: StandIn;
let serve: Served;
let config: string;

async function readyz(): Promise<{ status: number; body: { ready: boolean; waiting: string[] } }> {
  const res = await fetch(`${serve.admin}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; waiting: string[] } };
}

async function until(pred: (r: Awaited<ReturnType<typeof readyz>>) => boolean, ms = 10_000) {
  const t0 = Date.now();
  let r = await readyz();
  while (!pred(r) && Date.now() - t0 < ms) {
    await new Promise((res) => setTimeout(res, 100));
    r = await readyz();
  }
  return r;
}

beforeAll(async () => {
  legacy = await startStandIn('legacy');
  // The example as shipped, with this test's ports: legacy up; block-service and feed-service down.
  const example = readFileSync(path.join(REPO_ROOT, 'examples/strangler.yaml'), 'utf8')
    .replace('listen: 127.0.0.1:8080', 'listen: 127.0.0.1:0')
    .replace('listen: 127.0.0.1:9901', 'listen: 127.0.0.1:0')
    .replace('url: http://127.0.0.1:8000', `url: ${legacy.url}`)
    .replace('url: http://127.0.0.1:9000', 'url: http://127.0.0.1:1')
    .replace('url: http://127.0.0.1:9001', 'url: http://127.0.0.1:2')
    .replace('store: sqlite:.strangler/demo.db', 'store: sqlite:state.db');
  config = path.join(tmp.dir, 'strangler.yaml');
  writeFileSync(config, example);
  serve = await startServe(config, { STRANGLER_ADMIN_TOKEN: 'readyz-admin-token-0123456789' });
}, 30_000);

afterAll(async () => {
  await serve?.stop();
  await legacy?.close();
  tmp.cleanup();
});

describe('/readyz waits for the upstreams current modes use (issue 25, case 4)', () => {
  it('the example config turns ready with only legacy up', async () => {
    const r = await until((x) => x.status === 200);
    expect(r).toEqual({ status: 200, body: { ready: true, waiting: [] } });
  });

  it('a flip to canary makes the service it routes to hold readiness, named in the reason', async () => {
    const flip = await runBin(
      ['flip', 'block', 'canary', '--weight', '5', '--force', '--reason', 'readyz test', '--config', config],
      { cwd: tmp.dir },
    );
    expect(flip.code).toBe(0);
    const r = await until((x) => x.status === 503);
    expect(r.status).toBe(503);
    expect(r.body.waiting).toEqual([
      'upstream not answered yet: GET http://127.0.0.1:1/ (service block-service, which routes in canary/service mode use)',
    ]);
  }, 20_000);
});
