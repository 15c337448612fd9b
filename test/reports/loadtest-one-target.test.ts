/**
 * Issue 17: a load test of one target (`--targets service`) has no ratio
 * columns, so the footnote on how to read ratios has nothing to explain.
 */
import { describe, expect, it } from 'vitest';
import { renderLoadtest } from '../../reports/loadtest/index.js';
import { LOADTEST } from './fixtures.js';

const oneTarget = {
  ...LOADTEST,
  targets: LOADTEST.targets.filter((t) => t.target === 'service'),
  ratios: [],
};

describe('loadtest report with one target', () => {
  it.each(['text', 'md', 'html'] as const)('%s drops the ratio footnote', (format) => {
    expect(renderLoadtest(oneTarget, format).output).not.toContain('Ratios divide');
  });

  it.each(['text', 'md', 'html'] as const)('%s keeps it when there are ratios', (format) => {
    expect(renderLoadtest(LOADTEST, format).output).toContain('Ratios divide the first target by the second');
  });
});
