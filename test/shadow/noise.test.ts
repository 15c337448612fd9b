import { describe, expect, it } from 'vitest';
import {
  MAX_SET_FIELDS,
  mergeMismatchSets,
  mismatchSetKey,
  OVERFLOW_SET,
  summariseMatches,
} from '../../shadow/noise.js';

const thresholds = { noiseRelativeThreshold: 2, noiseAbsoluteThreshold: 0.01, ignore: [] as string[] };

describe('noise classification and match rate after noise', () => {
  it('a field differing as often against legacy itself is noise; a never-noisy field is real however rare', () => {
    const s = summariseMatches(
      {
        compared: 1000,
        matched: 0,
        fieldDiffs: { '$.generated_at': 1000, '$.count': 3 },
        fieldNoise: { '$.generated_at': 100 },
        noisePairs: 100,
        mismatchSets: { '$.generated_at': 997, [mismatchSetKey(['$.generated_at', '$.count'])]: 3 },
      },
      thresholds,
    );
    expect(s.fields.map((f) => [f.field, f.verdict])).toEqual([
      ['$.generated_at', 'noise'],
      ['$.count', 'real'],
    ]);
    expect(s.matched).toBe(997);
    expect(s.matchRate).toBeCloseTo(0.997, 6);
  });

  it('a noisy field that differs clearly more often against the service is real (both margins)', () => {
    const base = { compared: 100, matched: 0, noisePairs: 100, mismatchSets: { '$.x': 100 } };
    // noise 10%, diffs 100%: exceeds 2x and by more than 1 point → real
    expect(
      summariseMatches({ ...base, fieldDiffs: { '$.x': 100 }, fieldNoise: { '$.x': 10 } }, thresholds)
        .fields[0].verdict,
    ).toBe('real');
    // noise 60%, diffs 100%: less than 2x → noise
    expect(
      summariseMatches({ ...base, fieldDiffs: { '$.x': 100 }, fieldNoise: { '$.x': 60 } }, thresholds)
        .fields[0].verdict,
    ).toBe('noise');
    // noise 0.2%, diffs 0.5%: 2.5x but only 0.3 points apart (< 1 point) → noise
    const tiny = summariseMatches(
      {
        compared: 1000,
        matched: 995,
        noisePairs: 1000,
        fieldDiffs: { '$.x': 5 },
        fieldNoise: { '$.x': 2 },
        mismatchSets: { '$.x': 5 },
      },
      thresholds,
    );
    expect(tiny.fields[0].verdict).toBe('noise');
    expect(tiny.matched).toBe(1000);
  });

  it('noise learned after requests were compared re-classifies those requests (sets are stored, not verdicts)', () => {
    const early = {
      compared: 10,
      matched: 2,
      fieldDiffs: { '$.ts': 8 },
      fieldNoise: {},
      noisePairs: 0,
      mismatchSets: { '$.ts': 8 },
    };
    expect(summariseMatches(early, thresholds).matched).toBe(2);
    const later = { ...early, fieldNoise: { '$.ts': 1 }, noisePairs: 1 };
    expect(summariseMatches(later, thresholds).matched).toBe(10);
  });

  it('an ignore pattern added to the config later applies to stored counters', () => {
    const c = {
      compared: 4,
      matched: 0,
      fieldDiffs: { '$.items[*].updated_at': 4 },
      fieldNoise: {},
      noisePairs: 0,
      mismatchSets: { '$.items[*].updated_at': 4 },
    };
    expect(summariseMatches(c, thresholds).matchRate).toBe(0);
    const s = summariseMatches(c, { ...thresholds, ignore: ['$.items[*].updated_at'] });
    expect(s.matchRate).toBe(1);
    expect(s.fields[0].verdict).toBe('ignored');
  });

  it('field sets are bounded: overflow is pooled and always counts as a mismatch', () => {
    const into: Record<string, number> = {};
    mergeMismatchSets(into, { a: 1, b: 1, c: 1 }, 2);
    expect(into).toEqual({ a: 1, b: 1, [OVERFLOW_SET]: 1 });
    const wide = Array.from({ length: MAX_SET_FIELDS + 1 }, (_, i) => `$.f${i}`);
    expect(mismatchSetKey(wide)).toBe(OVERFLOW_SET);
    const s = summariseMatches(
      {
        compared: 3,
        matched: 0,
        fieldDiffs: { a: 1 },
        fieldNoise: { a: 5 },
        noisePairs: 5,
        mismatchSets: into,
      },
      thresholds,
    );
    // a is noise (100% noisy) → 1 matched; b is real; the pooled one is never a match
    expect(s.matched).toBe(1);
  });

  it('no comparisons → no match rate rather than 0% or 100%', () => {
    expect(
      summariseMatches(
        { compared: 0, matched: 0, fieldDiffs: {}, fieldNoise: {}, noisePairs: 0, mismatchSets: {} },
        thresholds,
      ).matchRate,
    ).toBeNull();
  });
});
