import { describe, expect, it } from 'vitest';
import { PROGRESS_REPORTERS } from '../../reports/progress/index.js';
import { NOW, PROGRESS } from './fixtures.js';
import { expectGolden } from './golden.js';

describe('progress reporters', () => {
  for (const format of ['text', 'md', 'json'] as const) {
    it(`renders ${format} like the golden file`, () => {
      const out = PROGRESS_REPORTERS[format](PROGRESS, { now: NOW });
      expect(out.exitCode).toBe(0);
      expectGolden(`progress.${format === 'text' ? 'txt' : format}`, out.output);
    });
  }

  it('json carries the gathered data unchanged', () => {
    expect(JSON.parse(PROGRESS_REPORTERS.json(PROGRESS).output)).toEqual(PROGRESS);
  });

  it('text names modes, the service share, each route and the next candidates', () => {
    const text = PROGRESS_REPORTERS.text(PROGRESS).output;
    expect(text).toContain('legacy 1, shadow 0, canary 1, service 1 (3 routes)');
    expect(text).toContain('services served 37.5% of 6000 requests');
    expect(text).toMatch(/^feed\s+canary 5%/m);
    expect(text).toContain('1. monolith.i18n (wave 1): no imports of other modules; few callers');
  });

  it('says no plan was saved rather than showing an empty list', () => {
    const text = PROGRESS_REPORTERS.text({ ...PROGRESS, plan: null }).output;
    expect(text).toContain('no plan saved');
  });
});
