/**
 * Regression for issue 29, case 4 (SQLite): with the proxy lost because its
 * SQLite file was replaced, `strangler flip` exited 0 and wrote an audit row
 * into the replacement the proxy never applied (the audit said one mode, the
 * traffic went to the other), and admin `GET /routes` answered the
 * replacement's rows. Now the CLI checks the lost mark the proxy left (exit
 * 5, one line, "lost", the way out) and `GET /routes` answers the table the
 * proxy serves, marked stale. Real processes: `strangler serve`, the CLI.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { writeConfig } from '../helpers/tmp.js';
import { cli, oneRouteConfig, servedBy } from './helpers.js';
import { adminRoutes, expectLost, lostOnHealthz, lostStoreBench } from './writers-lost.js';

const bench = lostStoreBench('strangler-writers-lost-sqlite-');

describe('a SQLite file replaced under a running proxy', () => {
  it('flip is refused (no audit row the proxy never applies); GET /routes shows the served table, stale', async () => {
    const file = path.join(bench.dir(), 'state.db');
    const config = writeConfig(
      bench.dir(),
      oneRouteConfig({ store: `sqlite:${file}`, upstream: bench.upstreamUrl(), mode: 'service' }),
      'sqlite.yaml',
    );
    const a = await bench.proxyOnLegacy(config);
    // Another store (the config's modes) takes the file's place.
    const other = path.join(bench.dir(), 'other.db');
    const o = openSqliteStore(other);
    await o.routes.seed([{ id: 'block', mode: 'service', weight: 100 }], 'someone');
    await o.close();
    for (const f of [`${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    renameSync(other, file);
    await lostOnHealthz(a);

    const [flip, routesCli] = await Promise.all([
      cli(config, ['flip', 'block', 'legacy', '--reason', 'make sure']),
      cli(config, ['routes']),
    ]);
    expectLost(flip, 'flip');
    expectLost(routesCli, 'routes');
    const replaced = await openStore(`sqlite:${file}`, { create: false });
    try {
      expect((await replaced.audit.list()).map((e) => e.action)).toEqual(['seed']);
    } finally {
      await replaced.close();
    }
    const routes = await adminRoutes(a);
    expect(routes.stale).toBe(true);
    expect(routes.reason).toContain('replaced by another file');
    expect(routes.routes).toMatchObject([{ id: 'block', mode: 'legacy', version: 2 }]);
    for (let i = 0; i < 3; i++) expect(await servedBy(a.proxy)).toBe('legacy');
  }, 60_000);

  it('a seed refused over a running proxy leaves no new empty store file behind', async () => {
    const file = path.join(bench.dir(), 'gone.db');
    const config = writeConfig(
      bench.dir(),
      oneRouteConfig({ store: `sqlite:${file}`, upstream: bench.upstreamUrl(), mode: 'service' }),
      'gone.yaml',
    );
    const a = await bench.proxyOnLegacy(config);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    await lostOnHealthz(a);
    const seed = await cli(config, ['seed']);
    expect(seed.code).toBe(5);
    expect(seed.err).toContain('STRANGLER_E_PROXIES_LIVE');
    // Nothing changed: no fresh database stands where the lost one was.
    expect(existsSync(file)).toBe(false);
  }, 60_000);
});
