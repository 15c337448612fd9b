/**
 * Fixed report inputs for the golden tests and the browser test: hand-written
 * so every figure is known, with a fixed `now` so output never drifts.
 */
import type { LatencyData } from '../../control/latency-data.js';
import type { LoadtestResult } from '../../control/loadtest-result.js';
import type { ProgressData } from '../../control/progress-data.js';

export const NOW = new Date('2026-03-01T12:00:00.000Z');

export const LOADTEST: LoadtestResult = {
  route: 'block',
  method: 'GET',
  path: '/api/block/1',
  connections: 10,
  durationS: 2,
  rate: null,
  bodyBytes: 0,
  mode: 'shadow',
  directTarget: 'legacy',
  startedAt: '2026-03-01T11:59:50.000Z',
  finishedAt: '2026-03-01T11:59:56.100Z',
  targets: [
    {
      target: 'legacy',
      url: 'http://127.0.0.1:8000/api/block/1',
      requests: 4200,
      durationS: 2.01,
      rps: 2089.6,
      latencyMs: { mean: 4.6, p50: 4, p90: 7, p99: 12, max: 31 },
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      non2xxByStatus: {},
      bytesPerSec: 412_000,
    },
    {
      target: 'service',
      url: 'http://127.0.0.1:9000/api/block/1',
      requests: 9100,
      durationS: 2,
      rps: 4550,
      latencyMs: { mean: 1.9, p50: 2, p90: 3, p99: 5, max: 18 },
      errors: 2,
      timeouts: 1,
      non2xx: 7,
      non2xxByStatus: { '500': 5, '503': 2 },
      bytesPerSec: 880_500,
    },
    {
      target: 'proxy',
      url: 'http://127.0.0.1:8080/api/block/1',
      requests: 3600,
      durationS: 2,
      rps: 1800,
      latencyMs: { mean: 5.4, p50: 5, p90: 8, p99: 15, max: 40 },
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      non2xxByStatus: {},
      bytesPerSec: 353_000,
    },
  ],
  ratios: [
    { of: 'service', over: 'legacy', rps: 2.177, p50: 0.5, p90: 0.429, p99: 0.417 },
    { of: 'proxy', over: 'legacy', rps: 0.861, p50: 1.25, p90: 1.143, p99: 1.25 },
  ],
};

const bin = (i: number) => new Date(NOW.getTime() - (6 - i) * 3_600_000).toISOString();

export const PROGRESS: ProgressData = {
  generatedAt: NOW.toISOString(),
  since: '2026-03-01T06:00:00.000Z',
  stepMs: 3_600_000,
  modes: { legacy: 1, shadow: 0, canary: 1, service: 1 },
  traffic: [0, 1, 2, 3, 4, 5].map((i) => ({ start: bin(i), legacy: 1000 - i * 150, service: i * 150 })),
  totals: { legacy: 3750, service: 2250, serviceShare: 0.375 },
  routes: [
    {
      id: 'block',
      service: 'block-service',
      module: 'monolith.block',
      mode: 'service',
      weight: 100,
      version: 5,
      matchRate: 0.9985,
      compared: 2000,
      requests: { legacy: 120, service: 2130 },
      errors: { legacy: 0, service: 3 },
      p99Ms: { legacy: 20, service: 15 },
      breaker: { state: 'closed', at: '2026-03-01T10:15:00.000Z' },
      lastChange: { at: '2026-03-01T09:00:00.000Z', actor: 'cli:alice', reason: 'gate passed' },
      loadtest: { at: '2026-03-01T08:00:00.000Z', serviceOverLegacyP99: 0.417, serviceOverLegacyRps: 2.177 },
    },
    {
      id: 'feed',
      service: 'feed-service',
      module: 'monolith.feed',
      mode: 'canary',
      weight: 5,
      version: 2,
      matchRate: null,
      compared: 0,
      requests: { legacy: 3600, service: 120 },
      errors: { legacy: 1, service: 0 },
      p99Ms: { legacy: 50, service: 75 },
      breaker: null,
      lastChange: { at: '2026-03-01T11:00:00.000Z', actor: 'cli:bob', reason: 'first canary step' },
      loadtest: null,
    },
    {
      id: 'i18n',
      service: 'i18n-service',
      module: null,
      mode: 'legacy',
      weight: 0,
      version: 1,
      matchRate: null,
      compared: 0,
      requests: { legacy: 30, service: 0 },
      errors: { legacy: 0, service: 0 },
      p99Ms: { legacy: 3, service: null },
      breaker: null,
      lastChange: { at: '2026-03-01T06:30:00.000Z', actor: 'config', reason: 'seeded from config' },
      loadtest: null,
    },
  ],
  plan: {
    at: '2026-03-01T07:00:00.000Z',
    candidates: [
      { module: 'monolith.i18n', wave: 1, rank: 2, reasons: ['no imports of other modules', 'few callers'] },
      { module: 'monolith.chat', wave: 2, rank: 3, reasons: [] },
    ],
  },
};

const p = (requests: number, p50: number, p90: number, p99: number) => ({ requests, p50, p90, p99 });

export const LATENCY: LatencyData = {
  generatedAt: NOW.toISOString(),
  since: '2026-03-01T11:00:00.000Z',
  stepMs: 900_000,
  routes: [
    {
      id: 'block',
      mode: 'canary',
      series: [
        { start: '2026-03-01T11:00:00.000Z', legacy: p(900, 3, 5, 10), service: null },
        { start: '2026-03-01T11:15:00.000Z', legacy: null, service: null },
        { start: '2026-03-01T11:30:00.000Z', legacy: p(850, 3, 5, 10), service: p(50, 2, 3, 7.5) },
        { start: '2026-03-01T11:45:00.000Z', legacy: p(800, 3, 7.5, 15), service: p(100, 2, 3, 5) },
      ],
      overall: { legacy: p(2550, 3, 5, 10), service: p(150, 2, 3, 7.5) },
      shadow: { pairs: 640, legacy: p(640, 2.41, 4.1, 9.87), service: p(640, 1.32, 2.2, 4.05) },
      p99Ratio: 0.41,
      p99RatioSource: 'shadow',
    },
    {
      id: 'feed',
      mode: 'legacy',
      series: [
        { start: '2026-03-01T11:00:00.000Z', legacy: null, service: null },
        { start: '2026-03-01T11:15:00.000Z', legacy: null, service: null },
        { start: '2026-03-01T11:30:00.000Z', legacy: null, service: null },
        { start: '2026-03-01T11:45:00.000Z', legacy: null, service: null },
      ],
      overall: { legacy: null, service: null },
      shadow: null,
      p99Ratio: null,
      p99RatioSource: null,
    },
  ],
};
