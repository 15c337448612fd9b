import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

describe('graceful close', () => {
  let legacy: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startUpstream((req, res) => {
      req.resume();
      setTimeout(() => res.end('done'), 300);
    });
    stack = await startStack({ legacy: { url: legacy.url } });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
  });

  it('finishes in-flight requests, closes keep-alive sockets, then refuses new connections', async () => {
    // A keep-alive connection that has finished one request and sits idle.
    expect((await stack.get('/warm')).body).toBe('done');
    const inflight = Promise.all(
      Array.from({ length: 10 }, () =>
        request(`${stack.proxy.url}/slow`, { dispatcher: stack.agent }).then(async (r) => ({
          status: r.statusCode,
          body: await r.body.text(),
        })),
      ),
    );
    // Close only once all ten are in flight at the upstream (not merely sent:
    // a request still connecting when the listener closes is refused, rightly).
    while (legacy.seen.filter((x) => x.url === '/slow').length < 10)
      await new Promise((r) => setTimeout(r, 10));
    await stack.proxy.close();
    const answers = await inflight;
    expect(answers.every((a) => a.status === 200 && a.body === 'done')).toBe(true);
    await expect(request(`${stack.proxy.url}/after`, { dispatcher: stack.agent })).rejects.toThrow();
    // close() is idempotent: the stack's own close calls it again.
    await stack.proxy.close();
  });
});
