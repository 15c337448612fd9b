import { afterAll, describe, expect, it } from 'vitest';
import { isStranglerError } from '../../core/errors.js';
import { loadConfig, parseConfig } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function configError(fn: () => unknown): { message: string; code: string } {
  try {
    fn();
  } catch (err) {
    if (isStranglerError(err)) return { message: err.message, code: err.code };
    throw err;
  }
  throw new Error('expected a config error');
}

describe('config validation', () => {
  it('accepts the documented example and fills defaults', () => {
    const file = writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
    const cfg = loadConfig(file);
    expect(cfg.routes[0].mode).toBe('legacy');
    expect(cfg.routes[0].failover.volumeThreshold).toBe(20);
    expect(cfg.routes[0].shadow.methods).toEqual(['GET', 'HEAD', 'OPTIONS']);
    // a relative sqlite path is relative to the config file
    expect(cfg.store).toBe(`sqlite:${tmp.dir}/state.db`);
    expect(Object.isFrozen(cfg.routes[0].match)).toBe(true);
  });

  it('names the file and the bad field for a wrong mode', () => {
    const file = writeConfig(
      tmp.dir,
      demoConfigYaml({ store: 'sqlite:x.db' }).replace('mode: legacy', 'mode: turbo'),
      'bad-mode.yaml',
    );
    const e = configError(() => loadConfig(file));
    expect(e.code).toBe('STRANGLER_E_CONFIG');
    expect(e.message).toContain('bad-mode.yaml');
    expect(e.message).toContain('routes[0].mode');
  });

  it('names an unknown service, a duplicate route id and an unknown key', () => {
    const e = configError(() =>
      parseConfig(
        {
          legacy: { url: 'http://127.0.0.1:8000' },
          services: { a: { url: 'http://127.0.0.1:9000' } },
          routes: [
            { id: 'r', match: { path: '/a' }, service: 'nope' },
            { id: 'r', match: { path: '/b', methodz: ['GET'] }, service: 'a' },
          ],
        },
        'c.yaml',
      ),
    );
    expect(e.message).toContain('c.yaml: routes[0].service: unknown service "nope"');
    expect(e.message).toContain('routes[1].id: duplicate route id "r"');
    expect(e.message).toMatch(/routes\[1\]\.match.*methodz/);
  });

  it('rejects a bad listen address, URL, weight and a * in the middle of a path', () => {
    const e = configError(() =>
      parseConfig(
        {
          listen: 'localhost',
          legacy: { url: 'ftp://x' },
          services: { a: { url: 'http://127.0.0.1:9000' } },
          routes: [{ id: 'r', match: { path: '/a/*/b' }, service: 'a', weight: 150 }],
        },
        'c.yaml',
      ),
    );
    for (const field of ['listen', 'legacy.url', 'routes[0].match.path', 'routes[0].weight'])
      expect(e.message).toContain(`c.yaml: ${field}:`);
  });

  it('reports YAML syntax errors with file, line and column', () => {
    const file = writeConfig(tmp.dir, 'listen: [unclosed\nlegacy: {url: x}\n', 'broken.yaml');
    const e = configError(() => loadConfig(file));
    expect(e.message).toMatch(/broken\.yaml:\d+:\d+: YAML/);
  });

  it('reports a missing file', () => {
    const e = configError(() => loadConfig(`${tmp.dir}/absent.yaml`));
    expect(e.message).toContain(`no config file at ${tmp.dir}/absent.yaml`);
    expect(e.message).toContain('strangler init --legacy');
  });

  it('takes reuseConnections: false or maxRequestsPerConnection on an upstream, not both', () => {
    const legacy = (extra: object) =>
      parseConfig({ legacy: { url: 'http://127.0.0.1:8000', ...extra } }).legacy;
    expect(legacy({}).reuseConnections).toBe(true);
    expect(legacy({ reuseConnections: false }).reuseConnections).toBe(false);
    expect(legacy({ maxRequestsPerConnection: 100 }).maxRequestsPerConnection).toBe(100);
    const both = configError(() => legacy({ reuseConnections: false, maxRequestsPerConnection: 5 }));
    expect(both.code).toBe('STRANGLER_E_CONFIG');
    expect(both.message).toContain(
      'legacy.maxRequestsPerConnection: give reuseConnections: false or maxRequestsPerConnection',
    );
    expect(configError(() => legacy({ maxRequestsPerConnection: 0 })).message).toContain(
      'legacy.maxRequestsPerConnection',
    );
  });

  it('parses durations', () => {
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration(30)).toBe(30);
    expect(() => parseDuration('2 minutes')).toThrow(/bad duration/);
  });
});
