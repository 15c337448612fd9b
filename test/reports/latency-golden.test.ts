import { describe, expect, it } from 'vitest';
import { LATENCY_REPORTERS } from '../../reports/latency/index.js';
import { LATENCY, NOW } from './fixtures.js';
import { expectGolden } from './golden.js';

describe('latency reporters', () => {
  for (const format of ['text', 'md', 'json'] as const) {
    it(`renders ${format} like the golden file`, () => {
      const out = LATENCY_REPORTERS[format](LATENCY, { now: NOW });
      expect(out.exitCode).toBe(0);
      expectGolden(`latency.${format === 'text' ? 'txt' : format}`, out.output);
    });
  }

  it('json carries the gathered data unchanged', () => {
    expect(JSON.parse(LATENCY_REPORTERS.json(LATENCY).output)).toEqual(LATENCY);
  });

  it('text puts legacy and service side by side, shadow pairs beside live traffic, skipping empty bins', () => {
    const text = LATENCY_REPORTERS.text(LATENCY).output;
    expect(text).toContain('p99 service/legacy: 0.41x (from shadow pairs)');
    expect(text).toMatch(/shadow pairs \(640\)\s+640\s+2.41 ms\s+4.10 ms\s+9.87 ms\s+640\s+1.32 ms/);
    expect(text).toContain('last 3 of 3 bins with traffic');
    expect(text).not.toContain('2026-03-01T11:15:00.000Z');
    expect(text).toContain('feed (legacy)  p99 service/legacy: - (no traffic on both sides yet)');
  });
});
