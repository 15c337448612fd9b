/**
 * `strangler plan --emit-routes` (the real bin, as a child process) on a Django
 * tree whose apps have leading catch-alls, like django.contrib.admin's
 * `re_path(r'(?P<url>.*)$', catch_all_view)` mounted at the root: folding more
 * than six patterns must never print `/*` + `/*` (config refuses "* is allowed
 * only at the end"), and two capabilities folded to the same pattern must not
 * both claim it (`serve` refuses a duplicate route: HyperKitty's plan emitted
 * `/list/*` three times). A catch-all (`/*`) is never emitted: one flip of
 * it would move the whole site. The output has to load as
 * it is, or the user's first paste fails.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../core/config.js';
import { compileRouteTable } from '../../proxy/route-table.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-emit-fold-');
afterAll(() => tmp.cleanup());

const app = (name: string, patterns: string[]): Record<string, string> => ({
  [`${name}/__init__.py`]: '',
  [`${name}/apps.py`]: `from django.apps import AppConfig\nclass C(AppConfig):\n    name = "${name}"\n`,
  [`${name}/models.py`]: `from django.db import models\nclass ${name[0].toUpperCase()}${name.slice(1)}(models.Model):\n    pass\n`,
  [`${name}/views.py`]: 'def show(request, **kw):\n    pass\n',
  [`${name}/urls.py`]: `from django.urls import path, re_path\nfrom ${name} import views\nurlpatterns = [\n${patterns.map((p) => `    ${p},\n`).join('')}]\n`,
});

describe('--emit-routes folding', () => {
  const root = path.join(tmp.dir, 'site');
  const files: Record<string, string> = {
    'site_cfg/__init__.py': '',
    'site_cfg/urls.py':
      "from django.urls import include, path\nurlpatterns = [path('', include('admin.urls')), path('', include('pages.urls'))]\n",
    ...app('admin', [
      ...['login', 'logout', 'password_change', 'autocomplete', 'jsi18n', 'r'].map(
        (p) => `path('${p}/', views.show)`,
      ),
      "re_path(r'(?P<url>.*)$', views.show)",
    ]),
    ...app('pages', [
      ...['about', 'contact', 'terms', 'privacy', 'help', 'faq'].map((p) => `path('${p}/', views.show)`),
      "re_path(r'^(?P<slug>.*)$', views.show)",
    ]),
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }

  it('prints only patterns a config accepts, each claimed once', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'plan', root, '--no-git', '--emit-routes'],
      {
        cwd: tmp.dir,
      },
    );
    const routes = (parse(stdout) as { routes: { id: string; match: { path: string } }[] }).routes;
    const paths = routes.map((r) => r.match.path);
    for (const p of paths) expect(p, p).not.toMatch(/\*./);
    expect(new Set(paths).size, paths.join(' ')).toBe(paths.length);
    // A catch-all at the root would move the whole site with one flip (issue 31): never emitted, and said so.
    expect(paths).not.toContain('/*');
    expect(paths).toEqual(expect.arrayContaining(['/login/', '/about/']));
    expect(stdout).toMatch(/# Never emitted: \/\* \(a catch-all: it would move the whole site\) of admin/);
    const file = path.join(tmp.dir, 'emitted.yaml');
    writeFileSync(file, `legacy: { url: "http://127.0.0.1:1" }\nstore: "sqlite::memory:"\n${stdout}`);
    const config = loadConfig(file);
    expect(config.routes.length).toBe(routes.length);
    // loadConfig alone accepts two routes on one pattern; `serve` compiles the table and refuses them.
    expect(() => compileRouteTable(config, [])).not.toThrow();
  }, 60_000);
});
