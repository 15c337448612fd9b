/**
 * `strangler plan` inputs and outputs beyond the tree (issue 14, issue 17):
 * ./strangler.yaml read when present (and no store created by a read),
 * traffic from an nginx/gunicorn access log, and --emit-routes YAML that a
 * config accepts as it is.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../cli/io.js';
import { run } from '../../cli/main.js';
import { loadConfig } from '../../core/config.js';
import { tempDir } from '../helpers/tmp.js';

const MONOLITH = path.resolve(import.meta.dirname, '../../examples/monolith');
const tmp = tempDir('strangler-plan-inputs-');
afterAll(() => tmp.cleanup());

async function cli(
  cwd: string,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    cwd,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const CONFIG = [
  'store: sqlite:never-created.db',
  'legacy: { url: "http://127.0.0.1:1" }',
  'services: { block-service: { url: "http://127.0.0.1:2" }, feed-service: { url: "http://127.0.0.1:3" } }',
  'routes:',
  '  - { id: block, match: { path: /api/block/*, methods: [GET, POST, DELETE] }, service: block-service, module: monolith.block }',
  '  - { id: feed, match: { path: /api/feed/* }, service: feed-service, module: monolith.feed }',
].join('\n');

describe('strangler plan reads ./strangler.yaml when present', () => {
  const dir = path.join(tmp.dir, 'implicit');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'strangler.yaml'), CONFIG);

  it("takes the routes' module: from it, says so, and creates no store", async () => {
    const res = await cli(dir, 'plan', MONOLITH, '--no-git', '--format', 'json');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('plan: read strangler.yaml');
    const plan = JSON.parse(res.stdout);
    expect(plan.candidates[0].name).toBe('monolith.block');
    expect(plan.candidates[0].routes).toEqual(['GET,POST,DELETE /api/block/*']);
    expect(plan.notes).toContain(
      `no traffic data: store ${path.join(dir, 'never-created.db')} does not exist yet`,
    );
    expect(existsSync(path.join(dir, 'never-created.db'))).toBe(false);
  });

  it('plans without one when the folder has none', async () => {
    const res = await cli(tmp.dir, 'plan', MONOLITH, '--no-git');
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain('no entry point');
  });
});

describe('--access-log FILE', () => {
  const dir = path.join(tmp.dir, 'log');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'strangler.yaml'), CONFIG);
  const log = path.join(dir, 'access.log');
  const line = (p: string, method = 'GET') =>
    `127.0.0.1 - - [28/Nov/2026:06:00:00 +0000] "${method} ${p} HTTP/1.1" 200 512 "-" "curl/8.0"`;
  writeFileSync(
    log,
    [
      ...Array.from({ length: 30 }, (_, i) => line(`/api/feed/${i}?page=2`)),
      ...Array.from({ length: 10 }, () => line('/api/block/7', 'POST')),
      line('/unknown'),
      'not a request line',
    ].join('\n'),
  );

  it('counts requests per route pattern and shows them as a reason with its number', async () => {
    const res = await cli(
      dir,
      'plan',
      MONOLITH,
      '--no-git',
      '--format',
      'json',
      '--access-log',
      'access.log',
    );
    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    const feed = plan.candidates.find((c: { name: string }) => c.name === 'monolith.feed');
    const block = plan.candidates.find((c: { name: string }) => c.name === 'monolith.block');
    expect(feed.traffic).toBe(30);
    expect(block.traffic).toBe(10);
    expect(feed.reasons).toContain('traffic: 30 requests through its routes in the access log (+2.00)');
    expect(block.reasons).toContain('traffic: 10 requests through its routes in the access log (+0.67)');
    expect(plan.notes).toContain(`access log ${log}: 41 requests, 1 line not in combined format (skipped)`);
  });

  it('exits 2 naming a log it cannot read', async () => {
    const res = await cli(dir, 'plan', MONOLITH, '--no-git', '--access-log', 'missing.log');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/STRANGLER_E_PLANNER_INPUT: .*missing\.log: cannot read access log/);
  });
});

describe('--emit-routes', () => {
  const root = path.join(tmp.dir, 'django');
  const files: Record<string, string> = {
    'site_cfg/__init__.py': '',
    'site_cfg/urls.py':
      "from django.urls import include, path\nurlpatterns = [path('api/block/', include('block.urls'))]\n",
    'block/__init__.py': '',
    'block/apps.py': 'from django.apps import AppConfig\nclass BlockConfig(AppConfig):\n    name = "block"\n',
    'block/models.py': 'from django.db import models\nclass Block(models.Model):\n    pass\n',
    'block/views.py': 'def show(request, pk):\n    pass\n',
    'block/urls.py':
      "from django.urls import path\nfrom block import views\nurlpatterns = [path('<int:pk>/', views.show), path('', views.show)]\n",
    'other/__init__.py': 'x = 1\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }

  it('prints routes with module: set that a strangler.yaml accepts as they are', async () => {
    const res = await cli(tmp.dir, 'plan', root, '--no-git', '--emit-routes');
    expect(res.code).toBe(0);
    const emitted = parse(res.stdout);
    expect(emitted.routes).toEqual([
      {
        id: 'block-1',
        match: { path: '/api/block/:pk/' },
        service: 'block-service',
        module: 'block',
        mode: 'legacy',
      },
      {
        id: 'block-2',
        match: { path: '/api/block/' },
        service: 'block-service',
        module: 'block',
        mode: 'legacy',
      },
    ]);
    const file = path.join(tmp.dir, 'emitted.yaml');
    writeFileSync(file, `legacy: { url: "http://127.0.0.1:1" }\nstore: "sqlite::memory:"\n${res.stdout}`);
    const config = loadConfig(file);
    expect(config.routes.map((r) => [r.id, r.module, r.mode])).toEqual([
      ['block-1', 'block', 'legacy'],
      ['block-2', 'block', 'legacy'],
    ]);
    expect(readFileSync(file, 'utf8')).toContain('# Every route starts in legacy mode');
  });
});
