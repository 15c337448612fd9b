/**
 * Issue 29 case 1: route `changes` in service mode matched /api/v2/changes/*;
 * the operator widened the match to /api/v2/* in the file and restarted
 * `serve`: /api/v2/builders went to the service, with no audit row and no
 * warning. Now the restarted proxy serves the store's definition and says the
 * file differs; `strangler apply` refuses the widening (it moves live
 * traffic) unless forced with a reason, which is audited and reaches the
 * running proxy without a restart.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import {
  ADMIN_TOKEN,
  cli,
  editConfig,
  SERVE_ENV,
  type Served,
  startServe,
  until,
  whoServes,
} from './helpers.js';

let legacy: StandIn;
let service: StandIn;
let tmp: ReturnType<typeof tempDir>;
let config: string;
const running: Served[] = [];

beforeAll(async () => {
  legacy = await startStandIn('legacy');
  service = await startStandIn('changes-service');
  tmp = tempDir('strangler-apply-');
  config = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy.url} }
services:
  changes-service: { url: ${service.url} }
proxy: { pollIntervalMs: 100 }
drain: { delay: 100ms, timeout: 1s }
routes:
  - id: changes
    match: { path: /api/v2/changes/* }
    service: changes-service
    mode: service
`,
  );
});

afterAll(async () => {
  for (const s of running) await s.stop();
  await legacy.close();
  await service.close();
  tmp.cleanup();
});

async function serve(): Promise<Served> {
  const s = await startServe(config, SERVE_ENV);
  running.push(s);
  return s;
}

describe('a config edit never moves live traffic without an audited apply (issue 29 case 1)', () => {
  it('a restart with a widened match keeps serving the store definition and says the file differs', async () => {
    const first = await serve();
    expect(await whoServes(first.proxy, '/api/v2/changes/1')).toEqual({
      by: 'changes-service',
      route: 'changes',
    });
    expect((await whoServes(first.proxy, '/api/v2/builders')).by).toBe('legacy');
    await first.stop();

    editConfig(config, 'path: /api/v2/changes/*', 'path: /api/v2/*');
    const second = await serve();
    // On main: 'changes-service' (the file's wider match, served silently).
    expect(await whoServes(second.proxy, '/api/v2/builders')).toEqual({ by: 'legacy', route: '(unmatched)' });
    expect((await whoServes(second.proxy, '/api/v2/changes/1')).by).toBe('changes-service');

    const health = (await (await fetch(`${second.admin}/healthz`)).json()) as { config?: string };
    expect(health.config).toContain('config differs from the store (1 route)');
    const log = await until(
      'the drift log line',
      () => /config differs from the store/.test(second.err()) && second.err(),
      5000,
    );
    expect(log).toContain('strangler apply --dry-run');
    const routes = await cli(config, ['routes']);
    expect(routes.out).toContain('note: config differs from the store (1 route)');
  });

  it('apply refuses the widening, naming route and field, and writes nothing', async () => {
    const dry = await cli(config, ['apply', '--dry-run']);
    expect(dry.code).toBe(4);
    expect(dry.out).toContain('~ changes (service): MOVES LIVE TRAFFIC');
    expect(dry.out).toContain('match.path: /api/v2/changes/* -> /api/v2/*');

    const refused = await cli(config, ['apply']);
    expect(refused.code).toBe(4);
    expect(refused.err).toContain('STRANGLER_E_APPLY_REFUSED');
    expect(refused.err).toContain('route "changes" (service): match.path');
    // --force without a reason: refused before a plan is printed or anything written.
    const noReason = await cli(config, ['apply', '--force']);
    expect(noReason.code).toBe(2);
    expect(noReason.err).toContain('--force needs --reason');
    expect(noReason.out).toBe('');
    const history = await cli(config, ['history', '--json']);
    expect((JSON.parse(history.out) as { action: string }[]).map((e) => e.action)).not.toContain('apply');
  });

  it('apply --force --reason is audited like a forced flip and reaches the running proxy without a restart', async () => {
    const proxy = running.at(-1)!;
    const forced = await cli(config, ['apply', '--force', '--reason', 'builders moved to the service too']);
    expect(forced.code).toBe(0);
    await until(
      'the wider match on the running proxy',
      async () => (await whoServes(proxy.proxy, '/api/v2/builders')).by === 'changes-service',
      5000,
    );

    const history = await cli(config, ['history', 'changes']);
    expect(history.out).toMatch(
      /apply \(forced\)\s+match\.path \/api\/v2\/changes\/\* -> \/api\/v2\/\*; service v1 -> service v2/,
    );
    expect(history.out).toContain('[overrode: moves-live-traffic: match.path]');
    const health = (await (await fetch(`${proxy.admin}/healthz`)).json()) as { config?: string };
    expect(health.config).toBeUndefined();
    // The admin API's view of the route follows the store too.
    const rows = (await (
      await fetch(`${proxy.admin}/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { routes: { id: string; pattern: string; version: number }[] };
    expect(rows.routes).toEqual([
      expect.objectContaining({ id: 'changes', pattern: '/api/v2/*', version: 2 }),
    ]);
  });

  it('a restart with a new live route in the file seeds nothing: the route waits for apply', async () => {
    await running.pop()!.stop();
    appendFileSync(
      config,
      '  - id: builds\n    match: { path: /api/builds/* }\n    service: changes-service\n    mode: service\n',
    );
    const again = await serve();
    // On main: seeded at start in service mode, so /api/builds/1 went to the service.
    expect(await whoServes(again.proxy, '/api/builds/1')).toEqual({ by: 'legacy', route: '(unmatched)' });
    const health = (await (await fetch(`${again.admin}/healthz`)).json()) as { config?: string };
    expect(health.config).toContain('config differs from the store (1 route)');
    const history = JSON.parse((await cli(config, ['history', '--json'])).out) as { route: string | null }[];
    expect(history.map((e) => e.route)).not.toContain('builds');
  });

  it("a service's new URL moves live traffic: refused, then forced, it reaches the running proxy's pools", async () => {
    const v2 = await startStandIn('changes-service-v2');
    try {
      editConfig(config, `changes-service: { url: ${service.url} }`, `changes-service: { url: ${v2.url} }`);
      const refused = await cli(config, ['apply']);
      expect(refused.code).toBe(4);
      expect(refused.err).toContain('upstreams: services.changes-service.url');
      const proxy = running.at(-1)!;
      expect((await whoServes(proxy.proxy, '/api/v2/changes/1')).by).toBe('changes-service');
      // builds (still only in the file) is added in service mode by the same forced apply.
      const forced = await cli(config, ['apply', '--force', '--reason', 'changes-service moved']);
      expect(forced.code, forced.err).toBe(0);
      await until(
        'the new service URL on the running proxy',
        async () => (await whoServes(proxy.proxy, '/api/v2/changes/1')).by === 'changes-service-v2',
        5000,
      );
      const history = await cli(config, ['history']);
      expect(history.out).toContain(`services.changes-service.url ${service.url} -> ${v2.url}`);
    } finally {
      await v2.close();
    }
  });
});
