/**
 * Property (issue 12): for generated path spellings, the route the proxy
 * chooses for a spelling equals the route it chooses for the canonical form,
 * and every upstream sees only the canonical form. Generated with a seeded
 * generator so a failure names a reproducible case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalTarget } from '../../proxy/canonical.js';
import { type Stack, startStack } from '../proxy/helpers.js';
import { type RawUpstream, req, sendRaw, startRawUpstream } from './raw-tcp.js';

const OPTS = { mergeSlashes: true, encodedSlashes: 'reject' } as const;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEGMENTS = ['api', 'block', 'notes', 'admin', '1', '42', 'x', 'a.b', '~u', 'b-c_d', 'strict'];

/** A canonical path made of known segments, sometimes with a trailing slash. */
function basePath(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 4);
  const segs = Array.from({ length: n }, () => SEGMENTS[Math.floor(rnd() * SEGMENTS.length)]);
  return `/${segs.join('/')}${rnd() < 0.2 ? '/' : ''}`;
}

const hex = (c: string, upper: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? h.toUpperCase() : h}`;
};

/** Another spelling of `base` that must mean the same path. */
function respell(base: string, rnd: () => number): string {
  const segs = base.split('/').slice(1);
  const out: string[] = [];
  for (const s of segs) {
    const r = rnd();
    if (r < 0.15) out.push('.');
    else if (r < 0.25) out.push('%2e');
    else if (r < 0.35) out.push(SEGMENTS[Math.floor(rnd() * SEGMENTS.length)], rnd() < 0.5 ? '..' : '%2E%2e');
    else if (r < 0.45) out.push('');
    // Percent-encode some unreserved characters of the segment.
    out.push([...s].map((c) => (rnd() < 0.2 ? hex(c, rnd() < 0.5) : c)).join(''));
  }
  let p = `/${out.join('/')}`;
  if (rnd() < 0.3) p = `/${p}`;
  return p;
}

describe('property: route(spelling) = route(canonical); upstreams see only canonical forms', () => {
  it('every generated spelling has the base path as its canonical form (2,000 cases)', () => {
    const rnd = prng(12);
    for (let i = 0; i < 2000; i++) {
      const base = basePath(rnd);
      const spelling = respell(base, rnd);
      const c = canonicalTarget(spelling, OPTS);
      expect(c.ok && c.path, `${spelling} (case ${i})`).toBe(base);
    }
  });

  describe('over real sockets', () => {
    let legacy: RawUpstream;
    let service: RawUpstream;
    let stack: Stack;

    beforeAll(async () => {
      legacy = await startRawUpstream();
      service = await startRawUpstream();
      stack = await startStack({
        legacy: { url: legacy.url },
        services: { svc: { url: service.url } },
        routes: [
          {
            id: 'api',
            match: { path: '/api/*' },
            service: 'svc',
            mode: 'service',
            failover: { enabled: false },
          },
          {
            id: 'block',
            match: { path: '/api/block/:id' },
            service: 'svc',
            mode: 'service',
            failover: { enabled: false },
          },
          { id: 'notes', match: { path: '/api/notes/:id' }, service: 'svc', mode: 'legacy' },
          {
            id: 'strict',
            match: { path: '/strict/:id' },
            service: 'svc',
            mode: 'service',
            trailingSlash: 'strict',
            failover: { enabled: false },
          },
          { id: 'admin', match: { path: '/admin' }, service: 'svc', mode: 'legacy' },
        ],
      });
    });

    afterAll(async () => {
      await stack?.close();
      await legacy?.close();
      await service?.close();
    });

    async function through(target: string) {
      const l = legacy.seen.length;
      const s = service.seen.length;
      const r = await sendRaw(stack.proxy.port, req('GET', target), 3000);
      const got = [...legacy.seen.slice(l), ...service.seen.slice(s)];
      return {
        status: r.statuses.at(-1),
        route: r.headers['x-strangler-route'],
        seen: got.length,
        target: got[0]?.target,
      };
    }

    it('150 generated spellings route and forward like their canonical form', async () => {
      const rnd = prng(2026);
      for (let i = 0; i < 150; i++) {
        const base = basePath(rnd);
        const spelling = respell(base, rnd);
        const a = await through(spelling);
        const b = await through(base);
        const what = `${spelling} vs ${base} (case ${i})`;
        expect(a.status, what).toBe(200);
        expect(a.route, what).toBe(b.route);
        expect(a.seen, what).toBe(1);
        expect(a.target, what).toBe(base);
      }
    });

    it('no upstream ever parsed a non-canonical target', () => {
      const all = [...legacy.seen, ...service.seen];
      expect(all.length).toBeGreaterThan(0);
      for (const r of all) {
        const c = canonicalTarget(r.target, OPTS);
        expect(c.ok && c.url, r.target).toBe(r.target);
      }
    });
  });
});
