/** Stored evidence for two routes and the report data built from it, shared by the report tests. */
import { parseConfig } from '../../core/config.js';
import type { ShadowReportData } from '../../reports/shadow/types.js';
import { summariseRoute } from '../../shadow/evidence.js';
import { emptyShadowBatch, type ShadowEvidence } from '../../store/types.js';

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
const empty: ShadowEvidence = { route: 'feed', ...emptyShadowBatch() };

export const REPORT_DATA: ShadowReportData = {
  generatedAt: '2026-11-25T12:00:00.000Z',
  routes: [summariseRoute(evidence, config.routes[0]), summariseRoute(empty, config.routes[1])],
};
