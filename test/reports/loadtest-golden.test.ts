import { describe, expect, it } from 'vitest';
import { LOADTEST_REPORTERS } from '../../reports/loadtest/index.js';
import { LOADTEST, NOW } from './fixtures.js';
import { expectGolden } from './golden.js';

describe('loadtest reporters', () => {
  for (const format of ['text', 'md', 'json'] as const) {
    it(`renders ${format} like the golden file`, () => {
      const out = LOADTEST_REPORTERS[format](LOADTEST, { now: NOW });
      expect(out.exitCode).toBe(0);
      expectGolden(`loadtest.${format === 'text' ? 'txt' : format}`, out.output);
    });
  }

  it('json carries every figure of the run unchanged', () => {
    expect(JSON.parse(LOADTEST_REPORTERS.json(LOADTEST).output)).toEqual(LOADTEST);
  });

  it('text shows each target side by side with the ratio columns and non-2xx per status', () => {
    const text = LOADTEST_REPORTERS.text(LOADTEST).output;
    const header = text.split('\n').find((l) => l.includes('legacy') && l.includes('service/legacy'));
    expect(header).toMatch(/legacy\s+service\s+proxy\s+service\/legacy\s+proxy\/legacy/);
    expect(text).toMatch(/status 500\s+0\s+5\s+0/);
    expect(text).toMatch(/p99\s+12 ms\s+5 ms\s+15 ms\s+0.42x\s+1.25x/);
  });

  it('exits 1 when a target answered no 2xx at all (an outage, not a latency)', () => {
    const broken = structuredClone(LOADTEST);
    broken.targets[1].non2xx = broken.targets[1].requests;
    expect(LOADTEST_REPORTERS.text(broken).exitCode).toBe(1);
    expect(LOADTEST_REPORTERS.json(broken).exitCode).toBe(1);
  });
});
