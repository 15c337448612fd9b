import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { run } from '../../cli/main.js';
import { parseConfig } from '../../core/config.js';
import { REPO_ROOT } from '../../examples/run.js';
import { captureIO, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-k8s-');
afterAll(() => tmp.cleanup());

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is walked freely; each shape is asserted
type Obj = Record<string, any>;

describe('strangler export k8s', () => {
  it('writes a ConfigMap, Deployment and Service running N proxies on one Redis', async () => {
    writeConfig(
      tmp.dir,
      demoConfigYaml({
        store: 'sqlite:state.db',
        listen: '127.0.0.1:8080',
        admin: '127.0.0.1:9901',
        legacy: 'http://monolith:8000',
      }),
    );
    const c = captureIO(tmp.dir);
    const code = await run(
      [
        'export',
        'k8s',
        '--redis',
        'redis://redis.shop.svc:6379/2',
        '--replicas',
        '4',
        '-n',
        'shop',
        '-o',
        'k8s.yaml',
      ],
      c.io,
    );
    expect(c.err()).toContain('wrote');
    expect(code).toBe(0);
    const text = readFileSync(path.join(tmp.dir, 'k8s.yaml'), 'utf8');
    const parsed = parseAllDocuments(text);
    for (const d of parsed) expect(d.errors).toEqual([]);
    const [cm, deploy, svc, adminSvc] = parsed.map((d) => d.toJS() as Obj);
    expect([cm.kind, deploy.kind, svc.kind, adminSvc.kind]).toEqual([
      'ConfigMap',
      'Deployment',
      'Service',
      'Service',
    ]);

    // The embedded config is valid, shares Redis and listens on all interfaces.
    const podConfig = parseConfig(parseAllDocuments(cm.data['strangler.yaml'])[0].toJS());
    expect(podConfig.store).toBe('redis://redis.shop.svc:6379/2');
    expect(podConfig.listen).toBe('0.0.0.0:8080');
    expect(podConfig.admin.listen).toBe('0.0.0.0:9901');
    expect(podConfig.routes.map((r) => r.id)).toEqual(['block']);

    expect(deploy.spec.replicas).toBe(4);
    const container = deploy.spec.template.spec.containers[0];
    expect(container.args).toEqual(['serve', '--config', '/etc/strangler/strangler.yaml']);
    expect(container.ports).toEqual([
      { name: 'proxy', containerPort: 8080 },
      { name: 'admin', containerPort: 9901 },
    ]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'admin' });
    // drain.delay defaults to 5s: preStop sleeps as long; grace = 5 + 5 + 10 (drain.timeout) + 5.
    expect(container.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(deploy.spec.template.spec.terminationGracePeriodSeconds).toBe(25);
    expect(container.env[0]).toMatchObject({ name: 'STRANGLER_ADMIN_TOKEN' });
    expect(deploy.spec.template.spec.volumes[0].configMap.name).toBe(cm.metadata.name);
    expect(svc.spec.selector).toEqual(deploy.spec.selector.matchLabels);
    // The admin API is not published beside the proxy: a Service of its own.
    expect(svc.spec.ports.map((p: Obj) => p.port)).toEqual([8080]);
    expect(adminSvc.metadata.name).toBe('strangler-admin');
    expect(adminSvc.spec.ports).toEqual([{ name: 'admin', port: 9901, targetPort: 'admin' }]);
    expect(adminSvc.spec.selector).toEqual(deploy.spec.selector.matchLabels);
    // the loopback service URL from the config is called out
    expect(text).toMatch(/# NOTE service block-service is http:\/\/127\.0\.0\.1:2, a loopback address/);
  });

  it('refuses a SQLite store without --redis, naming the option', async () => {
    writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }), 'sqlite.yaml');
    const c = captureIO(tmp.dir);
    const code = await run(['export', 'k8s', '--config', 'sqlite.yaml'], c.io);
    expect(code).toBe(2);
    expect(c.err()).toMatch(/STRANGLER_E_USAGE: --redis: .*must share one Redis store/);
    expect(c.out()).toBe('');
  });

  it('matches preStop to drain.delay and sizes terminationGracePeriodSeconds from the drain config', async () => {
    writeConfig(
      tmp.dir,
      `${demoConfigYaml({ store: 'redis://redis:6379/0' })}drain: { delay: 8s, timeout: 20s }\n`,
      'drain.yaml',
    );
    const c = captureIO(tmp.dir);
    const code = await run(['export', 'k8s', '--config', 'drain.yaml'], c.io);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    const deploy = parseAllDocuments(c.out())[1].toJS() as Obj;
    const spec = deploy.spec.template.spec;
    expect(spec.containers[0].lifecycle.preStop.sleep.seconds).toBe(8);
    expect(spec.terminationGracePeriodSeconds).toBe(8 + 8 + 20 + 5);
  });

  it('gives pods of a config with extraction points their points token from a secret (issue 25)', async () => {
    const dir = path.join(tmp.dir, 'points');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeConfig(dir, readFileSync(path.join(REPO_ROOT, 'examples/strangler.yaml'), 'utf8'));
    const c = captureIO(dir);
    expect(await run(['export', 'k8s', '--redis', 'redis://redis:6379', '-o', 'k8s.yaml'], c.io)).toBe(0);
    const text = readFileSync(path.join(dir, 'k8s.yaml'), 'utf8');
    expect(text).toContain('create secret generic strangler-points');
    const [, deploy] = parseAllDocuments(text).map((d) => d.toJS() as Obj);
    const container = deploy.spec.template.spec.containers[0];
    expect(container.env[1]).toEqual({
      name: 'STRANGLER_POINTS_TOKEN',
      valueFrom: { secretKeyRef: { name: 'strangler-points', key: 'token', optional: true } },
    });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
  });
});
