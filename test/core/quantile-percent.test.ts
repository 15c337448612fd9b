import { describe, expect, it } from 'vitest';
import { percent } from '../../core/percent.js';
import { nearestRank, sampleQuantile } from '../../core/quantile.js';

describe('nearest-rank quantiles', () => {
  const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('is a sample, never an interpolation: the smallest with at least q of the samples at or below it', () => {
    expect(nearestRank(oneToTen, 0.5)).toBe(5);
    expect(nearestRank(oneToTen, 0.51)).toBe(6);
    expect(nearestRank(oneToTen, 0.95)).toBe(10);
    expect(nearestRank(oneToTen, 0)).toBe(1);
    expect(nearestRank(oneToTen, 1)).toBe(10);
  });

  it('has no quantile of no samples', () => {
    expect(nearestRank([], 0.99)).toBeUndefined();
    expect(sampleQuantile([], 0.99)).toBeUndefined();
  });

  it('sorts unsorted samples on a copy', () => {
    const xs = [9, 1, 5];
    expect(sampleQuantile(xs, 0.5)).toBe(5);
    expect(xs).toEqual([9, 1, 5]);
  });
});

describe('percent', () => {
  it('drops trailing zeros in messages and keeps them for tables', () => {
    expect(percent(0.999, 3)).toBe('99.9%');
    expect(percent(1, 2)).toBe('100%');
    expect(percent(0.5, 2, 'fixed')).toBe('50.00%');
    expect(percent(0.1234, 2)).toBe('12.34%');
  });
});
