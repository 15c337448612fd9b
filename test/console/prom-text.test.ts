/** Reading Prometheus text back for the console (failovers by reason, unmatched share). */
import { describe, expect, it } from 'vitest';
import { trafficFromMetrics } from '../../control/console-api.js';
import { parsePromText } from '../../control/prom-text.js';

describe('Prometheus text', () => {
  it('parses names, escaped label values and special numbers, skipping comments', () => {
    const text = [
      '# HELP x_total A thing.',
      '# TYPE x_total counter',
      'x_total{route="a\\"b",reason="back\\\\slash",note="two\\nlines"} 3',
      'y_bucket{le="+Inf"} +Inf',
      'z 1.5e3 1700000000000',
      '',
    ].join('\n');
    expect(parsePromText(text)).toEqual([
      { name: 'x_total', labels: { route: 'a"b', reason: 'back\\slash', note: 'two\nlines' }, value: 3 },
      { name: 'y_bucket', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
      { name: 'z', labels: {}, value: 1500 },
    ]);
  });

  it('sums requests over targets and outcomes (and workers) for the unmatched share', () => {
    const t = trafficFromMetrics(
      [
        'strangler_requests_total{route="block",target="legacy",outcome="2xx"} 6',
        'strangler_requests_total{route="block",target="service",outcome="5xx"} 2',
        'strangler_requests_total{route="(unmatched)",target="legacy",outcome="2xx"} 2',
        'strangler_rate_limited_total{route="block",target="service",action="reject"} 4',
      ].join('\n'),
    );
    expect(t.requests).toEqual({ total: 10, unmatched: 2, unmatchedShare: 0.2 });
    expect(t.requestsByRoute).toEqual({ block: 8, '(unmatched)': 2 });
    expect(t.rateLimited).toEqual({ block: { reject: 4 } });
    expect(trafficFromMetrics('').requests.unmatchedShare).toBeNull();
  });
});
