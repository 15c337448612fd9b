/**
 * Issue 17, "install anywhere": `npm pack` gives a tarball with dist/, the bin
 * and the docs and no dev files, and `npm install -g ./strangler-*.tgz` into a
 * fresh prefix gives a `strangler` that works from any other folder: init,
 * plan, serve (a request through the proxy) and flip.
 *
 * Offline and fast: npm resolves the dependencies from its cache where it can
 * (--prefer-offline; CI's `npm ci` has just filled it), and better-sqlite3's
 * install script fetches its prebuilt binary from a loopback mirror serving
 * this checkout's own build (prebuild-install honours
 * npm_config_better_sqlite3_binary_host) instead of GitHub, which this machine
 * cannot reach; without it the script compiles SQLite for minutes.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const tmp = tempDir('strangler-install-');
const prefix = path.join(tmp.dir, 'prefix');
const elsewhere = path.join(tmp.dir, 'my-monolith'); // a user's own folder, no node_modules anywhere above
let tarball = '';
let mirror: http.Server;
const mirrored: string[] = [];
let legacy: http.Server;
let serve: ChildProcess | undefined;
let installLog = '';

const strangler = (...argv: string[]) =>
  exec(path.join(prefix, 'bin', 'strangler'), argv, {
    cwd: elsewhere,
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn', STRANGLER_ACTOR: 'installed' },
  });

beforeAll(async () => {
  mkdirSync(elsewhere, { recursive: true });
  // The test script built dist/ already; --ignore-scripts skips `prepare` (a second tsc run).
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], {
    cwd: ROOT,
  });
  tarball = path.join(tmp.dir, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0].filename);

  // The prebuilt-binary mirror: this checkout's better_sqlite3.node in the layout prebuild-install expects.
  const prebuilt = path.join(tmp.dir, 'prebuilt.tar.gz');
  await exec('tar', [
    '-czf',
    prebuilt,
    '-C',
    path.join(ROOT, 'node_modules/better-sqlite3'),
    'build/Release/better_sqlite3.node',
  ]);
  mirror = http.createServer((req, res) => {
    mirrored.push(req.url ?? '');
    if (!req.url?.endsWith('.tar.gz')) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(prebuilt).pipe(res);
  });
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r));

  const install = await exec(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel',
      'warn',
      tarball,
    ],
    {
      cwd: tmp.dir,
      env: {
        ...process.env,
        npm_config_better_sqlite3_binary_host: `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`,
      },
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  installLog = install.stdout + install.stderr;

  // A stand-in monolith for `serve` to proxy to.
  legacy = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ from: 'legacy', url: req.url }));
  });
  await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
}, 660_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  await new Promise((r) => (mirror ? mirror.close(r) : r(null)));
  await new Promise((r) => (legacy ? legacy.close(r) : r(null)));
  tmp.cleanup();
});

describe('npm pack', () => {
  it('holds dist/, the bin and the docs, and no dev files', async () => {
    const { stdout } = await exec('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    for (const f of [
      'package/package.json',
      'package/README.md',
      'package/bin/strangler.js',
      'package/dist/cli/main.js',
      'package/console/index.html', // served at /ui, read from the package at run time
      'package/docs/errors.md',
    ])
      expect(files).toContain(f);
    const dev = files.filter((f) =>
      /^package\/(test|bench|examples|cli|core|proxy|node_modules)\/|^package\/dist\/(bench|examples)\/|tsconfig|vitest|biome|\.ts$/.test(
        f,
      ),
    );
    expect(dev).toEqual([]);
  });
});

describe(`npm install -g ./${pkg.name}-${pkg.version}.tgz into a fresh prefix`, () => {
  it('installs a strangler bin, its native store binary from the mirror, not a compile', () => {
    expect(existsSync(path.join(prefix, 'bin', 'strangler')), installLog).toBe(true);
    expect(
      mirrored.some((u) => u.endsWith('.tar.gz')),
      installLog,
    ).toBe(true);
  });

  it('init, then routes, from a folder of its own', async () => {
    const init = await strangler(
      'init',
      '--legacy',
      `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`,
    );
    expect(init.stdout).toContain('wrote strangler.yaml');
    // A route and a service, as a user adds them after init.
    const config = readFileSync(path.join(elsewhere, 'strangler.yaml'), 'utf8')
      .replace(/^listen: .*$/m, 'listen: 127.0.0.1:0')
      .replace(/^ {2}listen: .*$/m, '  listen: 127.0.0.1:0')
      .replace('services: {}', 'services:\n  block-service: { url: http://127.0.0.1:1 }')
      .replace(
        'routes: []',
        'routes:\n  - id: block\n    match: { path: /api/block/* }\n    service: block-service',
      );
    writeFileSync(path.join(elsewhere, 'strangler.yaml'), config);
    await strangler('seed');
    const routes = await strangler('routes');
    expect(routes.stdout).toMatch(/block\s+legacy\s+0\s+1/);
  });

  it('plan reads a Python tree', async () => {
    const r = await strangler('plan', path.join(ROOT, 'examples/monolith'), '--format', 'json');
    const plan = JSON.parse(r.stdout) as { modules: Array<{ name: string }> };
    expect(plan.modules.map((m) => m.name)).toContain('monolith.block');
  });

  it('serve proxies a request to legacy, and a flip from another shell is audited', async () => {
    serve = spawn(path.join(prefix, 'bin', 'strangler'), ['serve'], {
      cwd: elsewhere,
      env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { proxyUrl, adminUrl } = await new Promise<{ proxyUrl: string; adminUrl: string }>(
      (resolve, reject) => {
        let out = '';
        let err = '';
        serve!.stderr!.on('data', (c) => (err += c));
        serve!.stdout!.on('data', (c) => {
          out += c;
          const m = /proxy (http:\/\/\S+)\s+admin (http:\/\/\S+)/.exec(out);
          if (m) resolve({ proxyUrl: m[1], adminUrl: m[2] });
        });
        serve!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
      },
    );
    const res = await fetch(`${proxyUrl}/api/block/7`);
    expect(res.headers.get('x-strangler-target')).toBe('legacy');
    expect(await res.json()).toEqual({ from: 'legacy', url: '/api/block/7' });
    const ui = await fetch(`${adminUrl}/ui/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/<html/i);

    const flip = await strangler('flip', 'block', 'shadow', '--reason', 'installed from the tarball');
    expect(flip.stdout).toContain('block: legacy (v1) -> shadow (v2)');
    const history = JSON.parse((await strangler('history', 'block', '--json')).stdout) as Array<{
      actor: string;
      reason: string;
    }>;
    expect(history.at(-1)).toMatchObject({ actor: 'installed', reason: 'installed from the tarball' });

    serve.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => serve!.once('exit', r));
    expect(code).toBe(0);
  });
});
