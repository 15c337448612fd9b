/**
 * Issue 26: `report progress` showed breaker `-` while the admin API (and
 * `strangler routes`) said `closed` for the same route. One rule now
 * (control/routes.ts readBreakerState): closed for a failover route whose
 * breaker never changed, the newest breaker.* audit row once it did, and no
 * breaker (`-`) only when the route has failover off. The real bin, a real
 * SQLite store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { runBin } from '../helpers/bin.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-breaker-agrees-');
const env = { ...process.env, STRANGLER_LOG_LEVEL: 'silent' };
const cli = (...argv: string[]) => runBin(argv, { cwd: tmp.dir, env });

beforeAll(async () => {
  const extraRoute = `  - id: nofail
    match: { path: /api/nofail/* }
    service: block-service
    mode: legacy
    failover: { enabled: false }
`;
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db', extraRoute }));
  expect((await cli('seed')).code).toBe(0);
});
afterAll(() => tmp.cleanup());

async function both(): Promise<{ routes: Record<string, string>; progress: Record<string, string> }> {
  const routes = await cli('routes', '--json');
  expect(routes.code, routes.err).toBe(0);
  const progress = await cli('report', 'progress', '--format', 'json');
  expect(progress.code, progress.err).toBe(0);
  return {
    routes: Object.fromEntries(
      (JSON.parse(routes.out) as Array<{ id: string; extra: { breaker: string } }>).map((r) => [
        r.id,
        r.extra.breaker,
      ]),
    ),
    progress: Object.fromEntries(
      (JSON.parse(progress.out).routes as Array<{ id: string; breaker: { state: string } | null }>).map(
        (r) => [r.id, r.breaker?.state ?? '-'],
      ),
    ),
  };
}

describe('the breaker state in `routes` and `report progress`', () => {
  it('agrees before any breaker change: closed, and - for a route without failover', async () => {
    const b = await both();
    expect(b.routes).toEqual({ block: 'closed', nofail: '-' });
    expect(b.progress).toEqual(b.routes);
  });

  it('agrees after the proxy audited a change', async () => {
    const store = await openStore(`sqlite:${tmp.dir}/state.db`, { create: false });
    try {
      await store.audit.append({
        actor: 'breaker',
        route: 'block',
        action: 'breaker.open',
        before: null,
        after: null,
        reason: 'breaker opened (service block-service)',
      });
    } finally {
      await store.close();
    }
    const b = await both();
    expect(b.routes.block).toBe('open');
    expect(b.progress).toEqual(b.routes);
  });
});
