/**
 * The planner on real monoliths installed from Debian (issue 31): the
 * routes and capabilities a migration engineer would see, per code base.
 * .ci/run installs the packages; outside CI a missing package skips its
 * block with a warning, under CI=true it fails.
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderRoutesYaml } from '../../planner/emit-routes.js';
import { makePlanWithCapabilities } from '../../planner/make-plan.js';
import { scanTree } from '../../planner/scan-tree.js';
import { tempDir } from '../helpers/tmp.js';

const DIST = '/usr/lib/python3/dist-packages';
const tmp = tempDir('strangler-debian-');
afterAll(() => tmp.cleanup());

/** True when every package is installed; under CI a missing one fails the run. */
function installed(debian: string, ...packages: string[]): boolean {
  const missing = packages.filter((p) => !existsSync(path.join(DIST, p, '__init__.py')));
  if (missing.length === 0) return true;
  const msg = `${missing.join(', ')} absent from ${DIST}: run apt-get install -y ${debian}`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`SKIPPED: ${msg}`);
  return false;
}

// Tests are left out of a plan anyway; not scanning them keeps nova's run short.
const planOf = (p: string) => makePlanWithCapabilities({ path: p, git: false, exclude: ['tests'] });
const routesOf = async (p: string) => {
  const { capabilities } = await planOf(p);
  const byName = new Map(capabilities.candidates.map((c) => [c.name, c]));
  return { capabilities, byName, libs: capabilities.libraries.map((l) => l.name) };
};

describe.skipIf(!installed('python3-nova', 'nova'))('python3-nova', () => {
  it('the compute API and the metadata API are capabilities of their own; compute, scheduler, conductor are processes', async () => {
    const { byName, libs } = await routesOf(path.join(DIST, 'nova'));
    const api = byName.get('nova.api.openstack.compute')!;
    expect(api.routes).toEqual(expect.arrayContaining(['GET,POST /flavors', 'GET,PUT,DELETE /flavors/:id']));
    expect(byName.has('nova.api.metadata')).toBe(true);
    for (const p of ['nova.compute', 'nova.scheduler', 'nova.conductor']) {
      expect(libs).not.toContain(p);
      expect(byName.get(p)!.reasons.join('\n')).toMatch(
        /runs as its own process or long-running service: long-running role \w+Manager/,
      );
    }
    // nova/cmd/manage.py is the nova-manage command.
    expect(byName.get('nova.cmd')!.modules).toContain('nova.cmd.manage');
  }, 60_000);
});

describe.skipIf(!installed('buildbot', 'buildbot'))('buildbot', () => {
  it('finds the REST data API and the www resource tree; schedulers, workers, changes are not libraries', async () => {
    const { byName, libs } = await routesOf(path.join(DIST, 'buildbot'));
    expect(byName.get('buildbot.data')!.routes).toEqual(
      expect.arrayContaining(['/api/v2/builders', '/api/v2/builders/:builderid']),
    );
    expect(byName.get('buildbot.www')!.routes).toEqual(expect.arrayContaining(['/auth', '/avatar']));
    for (const p of [
      'buildbot.schedulers',
      'buildbot.worker',
      'buildbot.changes',
      'buildbot.reporters',
      'buildbot.mq',
    ])
      expect(libs).not.toContain(p);
  }, 60_000);
});

describe.skipIf(!installed('tryton-server', 'trytond'))('tryton-server', () => {
  it("reads methods={'GET'}: the data route is GET only", async () => {
    const { byName } = await routesOf(path.join(DIST, 'trytond'));
    expect(byName.get('trytond.ir')!.routes).toEqual(
      expect.arrayContaining(['GET /:database_name/data/:model', 'GET /avatar/:database_name/:uuid']),
    );
  }, 60_000);
});

describe.skipIf(!installed('mailman3', 'mailman'))('mailman3', () => {
  it('the Falcon REST API has its routes; the runners are a capability; no invented Python 2 edge', async () => {
    const { byName, libs } = await routesOf(path.join(DIST, 'mailman'));
    expect(byName.get('mailman.rest')!.routes).toEqual(
      expect.arrayContaining([
        '/3.1/lists',
        '/3.1/domains',
        '/3.1/lists/:id/held',
        '/3.1/lists/:id/header-matches',
      ]),
    );
    expect(libs).not.toContain('mailman.runners');
    const edges = scanTree(path.join(DIST, 'mailman')).imports.map((i) => `${i.from} -> ${i.to}`);
    expect(edges).not.toContain('mailman.model.template -> mailman.model.requests');
  }, 60_000);
});

describe.skipIf(!installed('python3-django-horizon', 'openstack_dashboard', 'horizon', 'openstack_auth'))(
  'openstack-dashboard (Horizon)',
  () => {
    it('routes carry their mount prefixes; no catch-all and no DEBUG route is emitted; the Settings dashboard is planned', async () => {
      // The site as deployed: the dashboard, the framework and the auth app side by side.
      const root = path.join(tmp.dir, 'horizon-site');
      mkdirSync(root);
      for (const p of ['openstack_dashboard', 'horizon', 'openstack_auth'])
        symlinkSync(path.join(DIST, p), path.join(root, p));
      const { capabilities, byName } = await routesOf(root);
      expect(byName.get('openstack_auth')!.routes).toEqual(
        expect.arrayContaining(['/auth/login/', '/auth/logout/']),
      );
      expect(byName.get('openstack_dashboard.dashboards.project.instances')!.routes).toContain(
        '/project/instances/',
      );
      expect(byName.get('openstack_dashboard.dashboards.settings.password')!.routes).toEqual([
        '/settings/password/',
      ]);
      const yaml = renderRoutesYaml(capabilities.candidates, capabilities.entryPoints);
      expect(yaml).toContain('path: /auth/*');
      expect(yaml).not.toMatch(/path: \/\*$/m);
      expect(yaml).not.toMatch(/path: \/500\//);
      expect(yaml).toMatch(/# Never emitted: .*\/500\/ \(DEBUG only\)/);
    }, 60_000);
  },
);

describe.skipIf(!installed('python3-django-hyperkitty', 'hyperkitty'))('HyperKitty', () => {
  it('inline include([...]) and two-literal patterns keep their prefixes', async () => {
    const { byName } = await routesOf(path.join(DIST, 'hyperkitty'));
    const views = byName.get('hyperkitty.views')!.routes;
    expect(views).toEqual(expect.arrayContaining(['/profile/favorites', '/users/:user_id/posts']));
    expect(views).not.toContain('/vote');
    expect(byName.get('hyperkitty:tag')!.routes).toEqual(['/api/tags/', '/tags/']);
  }, 60_000);
});
