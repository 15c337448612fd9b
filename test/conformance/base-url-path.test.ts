/**
 * Regression (issue 12): with `url: http://host/base` the primary dropped
 * `/base` while the shadow copy kept it. Primary, failover and shadow copy now
 * all put the base path in front of the canonical target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { createShadowHook, type ShadowMirror } from '../../shadow/mirror.js';
import { type Stack, startStack } from '../proxy/helpers.js';
import { type RawUpstream, req, sendRaw, startRawUpstream } from './raw-tcp.js';

describe('base URLs with a path are honoured the same way by primaries and shadow copies', () => {
  let legacy: RawUpstream;
  let service: RawUpstream;
  let stack: Stack;
  let hook: ShadowMirror;

  beforeAll(async () => {
    const json = () => 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}';
    legacy = await startRawUpstream(json);
    service = await startRawUpstream(json);
    const raw = {
      legacy: { url: `${legacy.url}/legacy-base` },
      services: { svc: { url: `${service.url}/svc-base/` } },
      routes: [
        { id: 'moved', match: { path: '/api/moved/*' }, service: 'svc', mode: 'service' },
        {
          id: 'shadowed',
          match: { path: '/api/shadowed/*' },
          service: 'svc',
          mode: 'shadow',
          shadow: { noiseSampleRate: 0 },
        },
      ],
    };
    const config = parseConfig(raw);
    hook = createShadowHook({ config, store: { shadow: { record: async () => {} } } as never });
    stack = await startStack(raw, { shadow: hook });
  });

  afterAll(async () => {
    await stack?.close();
    await hook?.close();
    await legacy?.close();
    await service?.close();
  });

  it('a service route: the service gets /svc-base + the canonical path', async () => {
    await sendRaw(stack.proxy.port, req('GET', '/api/moved//1'));
    expect(service.seen.map((r) => r.target)).toContain('/svc-base/api/moved/1');
  });

  it('an unmatched request: legacy gets /legacy-base + the canonical path', async () => {
    await sendRaw(stack.proxy.port, req('GET', '/other/./page?q=1'));
    expect(legacy.seen.map((r) => r.target)).toContain('/legacy-base/other/page?q=1');
  });

  it('a shadowed route: primary to /legacy-base, copy to /svc-base, both canonical', async () => {
    const l = legacy.seen.length;
    const s = service.seen.length;
    await sendRaw(stack.proxy.port, req('GET', '/api/shadowed/%61'));
    await hook.idle();
    expect(legacy.seen.slice(l).map((r) => r.target)).toEqual(['/legacy-base/api/shadowed/a']);
    expect(service.seen.slice(s).map((r) => r.target)).toEqual(['/svc-base/api/shadowed/a']);
  });
});
