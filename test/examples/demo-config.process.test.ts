import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { REPO_ROOT } from '../../examples/run.js';

describe('examples/strangler.yaml', () => {
  const file = path.join(REPO_ROOT, 'examples/strangler.yaml');

  it('validates, and every route names a declared service and a real monolith module', () => {
    const cfg = loadConfig(file);
    expect(cfg.legacy.url).toBe('http://127.0.0.1:8000');
    expect(cfg.store).toBe(`sqlite:${path.join(REPO_ROOT, 'examples/.strangler/demo.db')}`);
    const block = cfg.routes.find((r) => r.id === 'block');
    expect(block).toMatchObject({
      match: { path: '/api/block/*', methods: ['GET', 'POST', 'DELETE'] },
      service: 'block-service',
      module: 'monolith.block',
      mode: 'legacy',
    });
    for (const route of cfg.routes) {
      expect(Object.keys(cfg.services)).toContain(route.service);
      expect(route.mode).toBe('legacy');
      const module = path.join(REPO_ROOT, 'examples', `${route.module!.replaceAll('.', '/')}.py`);
      expect(existsSync(module), module).toBe(true);
    }
  });
});
