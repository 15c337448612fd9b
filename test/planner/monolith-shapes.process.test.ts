/**
 * Issue 31, part B, on small trees shaped like the real monoliths: entry
 * points that need more than one file (mailman's @child tree, Horizon's
 * settings-listed includes, dashboard/panel slugs and DEBUG routes),
 * processes as capabilities (nova's managers and egg-info entry scripts),
 * capabilities cut at their own seams (nova.api's two apps), the Python 2
 * import rule kept to Python 2 code (mailman.model.template), and the
 * scanner's fidelity (settings dashboards, nova's cmd/manage.py, FIFOs,
 * unreadable folders). Plans run in-process; what the process prints
 * (--emit-routes, the problems list) runs the real bin.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlanWithCapabilities } from '../../planner/make-plan.js';
import { scanTree } from '../../planner/scan-tree.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-shapes-');
afterAll(() => {
  try {
    execFileSync('chmod', ['-R', 'u+rwx', tmp.dir]);
  } catch {}
  tmp.cleanup();
});

function tree(name: string, files: Record<string, string>): string {
  const root = path.join(tmp.dir, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const plan = (p: string) => makePlanWithCapabilities({ path: p, git: false });
// Root reads any folder: `withoutDacOverride` runs the bin as root without the
// capabilities that bypass file modes (setpriv), so a mode-000 folder is
// unreadable to it, with the same node binary and files as the suite (running
// as nobody failed where the suite's node lives in a folder only root enters).
const run = async (args: string[], withoutDacOverride = false) => {
  const argv = withoutDacOverride
    ? [
        '--bounding-set=-dac_override,-dac_read_search',
        '--inh-caps=-all',
        '--',
        process.execPath,
        BIN,
        ...args,
      ]
    : [BIN, ...args];
  try {
    const r = await promisify(execFile)(withoutDacOverride ? 'setpriv' : process.execPath, argv, {
      cwd: tmp.dir,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe("mailman's object-routed REST API (@child)", () => {
  const root = tree('mailmanish', {
    'mm/__init__.py': '',
    'mm/rest/__init__.py': '',
    'mm/rest/helpers.py': 'def child(matcher=None):\n    def d(f):\n        return f\n    return d\n',
    'mm/rest/root.py': [
      'from mm.rest.helpers import child',
      'from mm.rest.lists import AList, AllLists',
      'class Root:',
      "    @child('3.1')",
      '    def api_version_31(self, context, segments):',
      '        return TopLevel()',
      'class TopLevel:',
      '    @child()',
      '    def lists(self, context, segments):',
      '        """/<api>/lists/<list>"""',
      '        if len(segments) == 0:',
      '            return AllLists()',
      '        list_identifier = segments.pop(0)',
      '        return AList(list_identifier), segments',
      '',
    ].join('\n'),
    'mm/rest/lists.py': [
      'from mm.rest.helpers import child',
      'class AllLists:',
      '    def on_get(self, request, response):',
      '        pass',
      'class AList:',
      '    @child()',
      '    def config(self, context, segments):',
      '        return ListConfig()',
      "    @child(r'^held')",
      '    def held(self, context, segments):',
      '        return Held()',
      'class ListConfig:',
      '    def on_get(self, request, response):',
      '        pass',
      '',
    ].join('\n'),
    'mm/model/__init__.py': '',
    'mm/model/mailinglist.py': 'from mm.rest import helpers\n',
  });

  it('walks the tree from its root across files into full paths', async () => {
    const { capabilities } = await plan(root);
    const paths = [...capabilities.entryPoints.values()].flat().map((e) => e.path);
    // `@child(r'^held')` is a literal segment; a matcher function would be `:param`.
    expect(paths.sort()).toEqual(['/3.1', '/3.1/lists', '/3.1/lists/:id/config', '/3.1/lists/:id/held']);
  });
});

describe('Horizon-shaped Django site', () => {
  const root = tree('horizonish', {
    'dash/__init__.py': '',
    'dash/defaults.py': "AUTHENTICATION_URLS = [\n    'auth_app.urls',\n]\n",
    'dash/views.py': 'def splash(request):\n    pass\n',
    'dash/urls.py': [
      'from django.conf import settings',
      'from django.urls import include, re_path',
      'from django.views import defaults',
      'from dash.api import rest',
      'from dash import views',
      'urlpatterns = [',
      "    re_path(r'^$', views.splash),",
      "    re_path(r'^api/', include(rest.urls)),",
      ']',
      'for u in settings.AUTHENTICATION_URLS:',
      "    urlpatterns.append(re_path(r'^auth/', include(u)))",
      'if settings.DEBUG:',
      "    urlpatterns.append(re_path(r'^500/$', defaults.server_error))",
      '',
    ].join('\n'),
    'dash/api/__init__.py': '',
    'dash/api/rest/__init__.py': 'from dash.api.rest import urls\n',
    'dash/api/rest/urls.py':
      "from django.urls import re_path\nfrom dash.api.rest import keystone\nurlpatterns = [re_path(r'^keystone/users/$', keystone.Users.as_view())]\n",
    'dash/api/rest/keystone.py': 'class Users:\n    pass\n',
    'dash/dashboards/__init__.py': '',
    'dash/dashboards/settings/__init__.py': '',
    'dash/dashboards/settings/dashboard.py':
      "import horizon\nclass Settings(horizon.Dashboard):\n    name = 'Settings'\n    slug = 'settings'\n",
    'dash/dashboards/settings/password/__init__.py': '',
    'dash/dashboards/settings/password/panel.py':
      "import horizon\nclass PasswordPanel(horizon.Panel):\n    slug = 'password'\n",
    'dash/dashboards/settings/password/views.py': 'class PasswordView:\n    pass\n',
    'dash/dashboards/settings/password/urls.py':
      "from django.urls import re_path\nfrom dash.dashboards.settings.password import views\nurlpatterns = [re_path(r'^$', views.PasswordView.as_view())]\n",
    'dash/settings.py': 'DEBUG = False\n',
    'auth_app/__init__.py': '',
    'auth_app/views.py': 'def login(request):\n    pass\ndef logout(request):\n    pass\n',
    'auth_app/urls.py':
      "from django.urls import re_path\nfrom auth_app import views\nurlpatterns = [re_path(r'^login/$', views.login), re_path(r'^logout/$', views.logout)]\n",
  });

  it('mounts settings-listed includes, module-object includes and panels at their full paths; DEBUG marked', async () => {
    const { capabilities } = await plan(root);
    const all = [...capabilities.entryPoints.values()].flat();
    expect(all.map((e) => e.path).sort()).toEqual([
      '/',
      '/500/',
      '/api/keystone/users/',
      '/auth/login/',
      '/auth/logout/',
      '/settings/password/',
    ]);
    expect(all.filter((e) => e.debug).map((e) => e.path)).toEqual(['/500/']);
    // The Settings dashboard is pages, not configuration: planned, not left out (dash/settings.py is).
    expect(capabilities.candidates.flatMap((c) => c.modules)).toContain(
      'dash.dashboards.settings.password.views',
    );
  });

  it('--emit-routes prints full paths and never the DEBUG route (the real bin)', async () => {
    const res = await run(['plan', root, '--no-git', '--emit-routes']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('path: /auth/login/');
    expect(res.stdout).toContain('path: /settings/password/');
    expect(res.stdout).not.toMatch(/path: \/500\//);
    expect(res.stdout).toMatch(/# Never emitted: \/500\/ \(DEBUG only\)/);
  });
});

describe('processes are capabilities; capabilities cut at their seams (nova-shaped)', () => {
  const site = path.join(tmp.dir, 'site-packages');
  tree('site-packages', {
    'svc-1.0.egg-info/entry_points.txt': [
      '[console_scripts]',
      'svc-compute = svc.cmd.compute:main',
      'svc-other = othertool.cmd:main',
      '',
      '[wsgi_scripts]',
      'svc-metadata-wsgi = svc.api.metadata.wsgi:init_application',
      '',
      '[svc.plugins]',
      'noise = svc.helpers',
      '',
    ].join('\n'),
    'svc/__init__.py': '',
    'svc/manager.py': 'class Manager(object):\n    pass\n',
    'svc/helpers.py': 'def h():\n    pass\n',
    'svc/compute/__init__.py': '',
    'svc/compute/manager.py':
      'from svc import manager\nclass ComputeManager(manager.Manager):\n    def run_instance(self):\n        pass\n',
    'svc/compute/rpcapi.py': 'class ComputeAPI(object):\n    pass\n',
    'svc/cmd/__init__.py': '',
    'svc/cmd/compute.py': 'from svc.compute import manager\ndef main():\n    manager.ComputeManager()\n',
    'svc/cmd/manage.py': 'from svc.compute import rpcapi\ndef main():\n    pass\n',
    'svc/conductor/__init__.py': '',
    'svc/conductor/tasks.py': 'from svc.compute import rpcapi\nfrom svc import helpers\n',
    'svc/scheduler/__init__.py': '',
    'svc/scheduler/filters.py': 'from svc.compute import rpcapi\nfrom svc import helpers\n',
    'svc/api/__init__.py': '',
    'svc/api/common.py': 'from svc import helpers\n',
    'svc/api/compute/__init__.py': '',
    'svc/api/compute/routes.py': [
      'from svc.api import common',
      'ROUTE_LIST = (',
      "    ('/servers', {'GET': [server_controller, 'index'], 'POST': [server_controller, 'create']}),",
      "    ('/servers/{id}', {'GET': [server_controller, 'show']}),",
      ')',
      '',
    ].join('\n'),
    'svc/api/metadata/__init__.py': '',
    'svc/api/metadata/wsgi.py': 'from svc.api import common\ndef init_application():\n    pass\n',
    'svc/api/metadata/handler.py': 'from svc.compute import rpcapi\n',
  });
  const root = path.join(site, 'svc');

  it("reads the installed egg-info's script groups, not plugin groups or other packages' modules", () => {
    const scan = scanTree(root);
    expect(scan.facts.get('svc.cmd.compute')?.scripts).toEqual(['console_scripts svc-compute']);
    expect(scan.facts.get('svc.api.metadata.wsgi')?.scripts).toEqual(['wsgi_scripts svc-metadata-wsgi']);
    expect(scan.facts.get('svc.helpers')?.scripts).toBeUndefined();
  });

  it('a manager imported by several units is a capability (a process), never a library', async () => {
    const { capabilities } = await plan(root);
    const libs = capabilities.libraries.map((l) => l.name);
    expect(libs).not.toContain('svc.compute');
    expect(libs).toContain('svc.helpers');
    const compute = capabilities.candidates.find((c) => c.name === 'svc.compute')!;
    expect(compute.reasons.join('\n')).toMatch(
      /runs as its own process or long-running service: long-running role ComputeManager \(svc\.compute\.manager\)/,
    );
    const cmd = capabilities.candidates.find((c) => c.name === 'svc.cmd')!;
    expect(cmd.reasons.join('\n')).toContain('entry scripts console_scripts svc-compute (svc.cmd.compute)');
    // nova's cmd/manage.py is the nova-manage command, not a project bootstrap.
    expect(cmd.modules).toContain('svc.cmd.manage');
  });

  it('svc.api is cut into its two apps; what they share stays svc.api', async () => {
    const { capabilities } = await plan(root);
    const names = capabilities.candidates.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['svc.api.compute', 'svc.api.metadata']));
    const compute = capabilities.candidates.find((c) => c.name === 'svc.api.compute')!;
    expect(compute.routes).toEqual(['GET,POST /servers', 'GET /servers/:id']);
    const rest = [...capabilities.candidates, ...capabilities.libraries].find((c) => c.name === 'svc.api');
    expect(rest?.modules).toEqual(['svc.api', 'svc.api.common']);
  });
});

describe('the Python 2 implicit relative import rule runs only on Python 2 code', () => {
  const files = {
    'mm/__init__.py': '',
    'mm/model/__init__.py': '',
    'mm/model/requests.py': 'class Request:\n    pass\n',
    'mm/model/template.py': 'from requests import HTTPError\n',
  };

  it('not in a Python 3 tree: `from requests import HTTPError` stays external', () => {
    const root = tree('py3tree', { ...files, 'mm/model/names.py': "def greet(n):\n    return f'hi {n}'\n" });
    expect(scanTree(path.join(root, 'mm')).imports.map((i) => `${i.from} -> ${i.to}`)).toEqual([]);
  });

  it('still in a Python 2 file, even inside a Python 3 tree', () => {
    const root = tree('mixed', {
      ...files,
      'mm/model/names.py': "def greet(n):\n    return f'hi {n}'\n",
      'mm/model/old.py': 'import requests\nprint "legacy"\n',
    });
    expect(scanTree(path.join(root, 'mm')).imports.map((i) => `${i.from} -> ${i.to}`)).toEqual([
      'mm.model.old -> mm.model.requests',
    ]);
  });
});

describe('scanner fidelity', () => {
  it('a FIFO named .py is reported as skipped, not read (which would block)', () => {
    const root = tree('fifo', { 'pkg/__init__.py': '', 'pkg/a.py': 'x = 1\n' });
    execFileSync('mkfifo', [path.join(root, 'pkg', 'pipe.py')]);
    const scan = scanTree(path.join(root, 'pkg'));
    expect(scan.problems).toEqual([
      { file: 'pipe.py', line: 0, message: 'not a regular file (FIFO, socket or device): skipped' },
    ]);
    expect(scan.modules.map((m) => m.name).sort()).toEqual(['pkg', 'pkg.a']);
  });

  it('an unreadable folder is a problem line and exit 0, not a stack trace (the real bin)', async () => {
    const root = tree('unreadable', {
      'pkg/__init__.py': '',
      'pkg/a.py': 'from pkg import b\n',
      'pkg/b.py': 'x = 1\n',
      'pkg/secret/__init__.py': '',
    });
    const asRoot = process.getuid?.() === 0;
    chmodSync(path.join(root, 'pkg', 'secret'), 0o000);
    const res = await run(['plan', path.join(root, 'pkg'), '--no-git'], asRoot);
    expect(res.stderr).not.toMatch(/at \w+ \(|Error:/);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('secret:0: unreadable folder: EACCES (skipped)');
  });
});

describe('Tryton modules (a tryton.cfg each) are capabilities of their own, not one trytond.modules', () => {
  const model = (name: string) =>
    `from trytond.model import ModelSQL\nclass Thing(ModelSQL):\n    __name__ = '${name}'\n`;
  const root = tree('trytonish', {
    'trytond/__init__.py': '',
    'trytond/model.py': 'class ModelSQL:\n    pass\n',
    'trytond/protocols/__init__.py': 'from trytond import model\n',
    'trytond/modules/__init__.py': '',
    'trytond/modules/party/__init__.py': 'from . import party\n',
    'trytond/modules/party/tryton.cfg': '[tryton]\nversion=6.0.0\n',
    'trytond/modules/party/party.py': model('party.party'),
    'trytond/modules/sale/__init__.py': 'from . import sale\n',
    'trytond/modules/sale/tryton.cfg': '[tryton]\nversion=6.0.0\ndepends:\n    party\n',
    'trytond/modules/sale/sale.py': `from trytond.modules.party import party\n${model('sale.sale')}`,
  });

  it('cuts one unit per module with a manifest', async () => {
    const { capabilities } = await plan(path.join(root, 'trytond'));
    const names = capabilities.candidates.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['trytond.modules.party', 'trytond.modules.sale']));
    expect(names).not.toContain('trytond.modules');
  });
});
