import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SHADOW_REPORTERS } from '../../reports/shadow/index.js';
import { expectGoldenIn } from '../helpers/golden.js';
import { REPORT_DATA } from './fixtures.js';

// Golden files: regenerate with UPDATE_GOLDEN=1 and review the diff.
const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

const data = REPORT_DATA;

function golden(name: string, actual: string): void {
  expectGoldenIn(GOLDEN, name, actual);
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
