import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { SHADOW_REPORTERS } from '../../reports/shadow/index.js';
import type { ShadowReportData } from '../../reports/shadow/types.js';
import { summariseRoute } from '../../shadow/evidence.js';
import type { ShadowEvidence } from '../../store/types.js';

// Golden files: regenerate with UPDATE_GOLDEN=1 and review the diff.
const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

const config = parseConfig({
  legacy: { url: 'http://127.0.0.1:8000' },
  services: { block: { url: 'http://127.0.0.1:9000' } },
  routes: [
    {
      id: 'block',
      match: { path: '/api/block/:user', methods: ['GET'] },
      service: 'block',
      mode: 'shadow',
      shadow: { ignore: ['$.etag'] },
    },
    { id: 'feed', match: { path: '/api/feed/:user' }, service: 'block' },
  ],
});

const evidence: ShadowEvidence = {
  route: 'block',
  compared: 200,
  matched: 0,
  skipped: { 'sampled-out': 40, timeout: 2 },
  // generated_at differs on every call, legacy against itself too: noise.
  fieldDiffs: { '$.generated_at': 200, '$.count': 6, '$.blocked[*]': 2, '$.etag': 1 },
  fieldNoise: { '$.generated_at': 20 },
  noisePairs: 20,
  mismatchSets: {
    '$.generated_at': 193,
    '$.count\n$.generated_at': 4,
    '$.blocked[*]\n$.count\n$.generated_at': 2,
    '$.etag\n$.generated_at': 1,
  },
  latency: {
    legacy: Array.from({ length: 100 }, (_, i) => 2 + i / 10),
    service: Array.from({ length: 100 }, (_, i) => 1 + i / 20),
  },
  errors: { legacy: 0, service: 2 },
  samples: [
    {
      at: '2026-11-25T10:00:00.000Z',
      endpoint: 'GET /api/block/:user',
      primary: 'legacy',
      request: { method: 'GET', url: '/api/block/3', headers: { authorization: '[redacted]' } },
      legacy: { status: 200, headers: {}, body: '{"count":2}' },
      service: { status: 200, headers: {}, body: '{"count":3}' },
      differences: [
        { path: '$.count', kind: 'changed', legacy: '2', service: '3' },
        { path: '$.blocked[1]', kind: 'changed', legacy: '7', service: '8' },
        {
          path: '$.generated_at',
          kind: 'changed',
          legacy: '"2026-11-25T10:00:00.1Z"',
          service: '"2026-11-25T10:00:00.2Z"',
        },
      ],
    },
  ],
};
const empty: ShadowEvidence = {
  route: 'feed',
  compared: 0,
  matched: 0,
  skipped: {},
  fieldDiffs: {},
  fieldNoise: {},
  noisePairs: 0,
  mismatchSets: {},
  latency: { legacy: [], service: [] },
  errors: { legacy: 0, service: 0 },
  samples: [],
};

const data: ShadowReportData = {
  generatedAt: '2026-11-25T12:00:00.000Z',
  routes: [summariseRoute(evidence, config.routes[0]), summariseRoute(empty, config.routes[1])],
};

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('shadow report', () => {
  it('computes the match rate after noise and ignore, names real fields with an example, lists noise', () => {
    const r = data.routes[0];
    // 193 noise-only + 1 (etag is ignored, generated_at noise) = 194 of 200
    expect(r.matched).toBe(194);
    expect(r.matchRate).toBeCloseTo(0.97, 6);
    expect(r.differing.map((f) => f.field)).toEqual(['$.count', '$.blocked[*]']);
    expect(r.differing[1].example).toMatchObject({
      path: '$.blocked[1]',
      legacy: '7',
      service: '8',
      url: 'GET /api/block/3',
    });
    expect(r.noise.map((f) => f.field)).toEqual(['$.generated_at']);
    expect(r.ignored.map((f) => f.field)).toEqual(['$.etag']);
    expect(r.latency.legacy).toEqual({ n: 100, p50: 6.9, p95: 11.4, p99: 11.8 });
    expect(r.skippedTotal).toBe(42);
  });

  it('text matches the golden file and fits an 100-column terminal', () => {
    const out = SHADOW_REPORTERS.text(data, { width: 100 });
    expect(out.exitCode).toBe(0);
    golden('report.txt', out.output);
    expect(Math.max(...out.output.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('md and json match their golden files', () => {
    golden('report.md', SHADOW_REPORTERS.md(data).output);
    golden('report.json', SHADOW_REPORTERS.json(data).output);
    expect(JSON.parse(SHADOW_REPORTERS.json(data).output)).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('html is one self-contained page with a latency chart and no network references', () => {
    const { output } = SHADOW_REPORTERS.html(data);
    expect(output).toMatch(/^<!doctype html>/);
    expect(output).toContain('<canvas id="latency-0"');
    expect(output).toContain('new Chart(');
    expect(output).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    expect(output).toContain('$.count');
  });
});
