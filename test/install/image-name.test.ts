/**
 * Issue 17: `strangler export k8s` names an image by default; the Dockerfile
 * and the README's build command must build exactly that image, or the
 * Deployment pulls something nothing builds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exportK8s } from '../../control/export-k8s.js';
import { parseConfig } from '../../core/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

describe('the image export k8s names is the one the Dockerfile builds', () => {
  const config = parseConfig({ store: 'redis://redis:6379', legacy: { url: 'http://legacy:8000' } });
  const yaml = exportK8s(config);
  const deployment = parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .find((d) => d?.kind === 'Deployment');
  const container = deployment.spec.template.spec.containers[0];

  it('defaults to strangler:<package version>, and says how to build it', () => {
    expect(container.image).toBe(`strangler:${version}`);
    expect(yaml).toContain(`npm ci && npm pack && docker build -t strangler:${version} .`);
  });

  it('the README and the Dockerfile build that tag from the npm pack tarball', () => {
    expect(read('README.md')).toContain(`npm ci && npm pack && docker build -t strangler:${version} .`);
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toContain(`docker build -t strangler:${version} .`);
    expect(dockerfile).toMatch(/^COPY strangler-\*\.tgz /m);
  });

  it('runs as a non-root user with the entrypoint the Deployment args expect', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2); // build stage + runtime stage
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('ENTRYPOINT ["strangler"]');
    expect(container.args).toEqual(['serve', '--config', '/etc/strangler/strangler.yaml']);
  });
});
