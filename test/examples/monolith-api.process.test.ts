import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startMonolith } from '../../examples/run.js';
import { call } from './http-json.js';

describe('monolith HTTP API', () => {
  let app: RunningApp;
  let viewer: number;
  let author: number;

  beforeAll(async () => {
    app = await startMonolith();
    viewer = 1;
    // Someone whose posts the viewer sees now, so blocking them must hide them.
    const feed = await call(app.url, 'GET', `/api/feed/${viewer}?limit=5`);
    author = feed.body.posts.find((p: { author: { id: number } }) => p.author.id !== viewer).author.id;
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('answers health and users from the seeded database', async () => {
    expect((await call(app.url, 'GET', '/healthz')).body.status).toBe('ok');
    const list = await call(app.url, 'GET', '/api/users?limit=5&offset=10');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(50);
    expect(list.body.users.map((u: { id: number }) => u.id)).toEqual([11, 12, 13, 14, 15]);
    const one = await call(app.url, 'GET', '/api/users/7');
    expect(one.body).toMatchObject({ id: 7, username: expect.any(String), display_name: expect.any(String) });
    expect((await call(app.url, 'GET', '/api/users/999')).status).toBe(404);
    const bad = await call(app.url, 'GET', '/api/users?limit=500');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('"limit"');
  });

  it('blocks, lists, checks and unblocks, and the feed hides the blocked user', async () => {
    const before = await call(app.url, 'GET', `/api/block/${viewer}`);
    expect(before.body.blocked).not.toContain(author);

    const created = await call(app.url, 'POST', `/api/block/${viewer}`, { target: author });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ user: viewer, target: author, created_at: expect.stringMatching(/Z$/) });
    const again = await call(app.url, 'POST', `/api/block/${viewer}`, { target: author });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);

    const list = await call(app.url, 'GET', `/api/block/${viewer}`);
    expect(list.body.blocked).toContain(author);
    expect(list.body.count).toBe(list.body.blocked.length);
    expect(list.body.blocked).toEqual([...list.body.blocked].sort((a: number, b: number) => a - b));
    expect((await call(app.url, 'GET', `/api/block/${viewer}/${author}`)).body).toEqual({
      user: viewer,
      other: author,
      blocked: true,
    });
    expect((await call(app.url, 'GET', `/api/block/${author}/${viewer}`)).body.blocked).toBe(false);

    const hidden = await call(app.url, 'GET', `/api/feed/${viewer}?limit=50`);
    expect(hidden.body.posts.length).toBeGreaterThan(0);
    expect(hidden.body.posts.some((p: { author: { id: number } }) => p.author.id === author)).toBe(false);
    expect(hidden.body.hidden).toBeGreaterThan(0);
    // Blocking hides both ways: the blocked author no longer sees the viewer's posts.
    const theirs = await call(app.url, 'GET', `/api/feed/${author}?limit=50`);
    expect(theirs.body.posts.some((p: { author: { id: number } }) => p.author.id === viewer)).toBe(false);

    const removed = await call(app.url, 'DELETE', `/api/block/${viewer}/${author}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ user: viewer, other: author, removed: true });
    const gone = await call(app.url, 'DELETE', `/api/block/${viewer}/${author}`);
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe(`user ${viewer} has not blocked user ${author}`);
    expect((await call(app.url, 'GET', `/api/block/${viewer}/${author}`)).body.blocked).toBe(false);
    const shown = await call(app.url, 'GET', `/api/feed/${viewer}?limit=50`);
    expect(shown.body.posts.some((p: { author: { id: number } }) => p.author.id === author)).toBe(true);
  });

  it('refuses bad block requests with a message naming the problem', async () => {
    const self = await call(app.url, 'POST', '/api/block/3', { target: 3 });
    expect(self).toMatchObject({
      status: 400,
      body: { error: 'bad_request', message: 'a user cannot block themselves' },
    });
    for (const body of [{ target: 'x' }, { target: true }, { target: 0 }, {}]) {
      const res = await call(app.url, 'POST', '/api/block/3', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('field "target" must be an integer user id');
    }
    expect((await call(app.url, 'POST', '/api/block/3', '{nope')).body.message).toBe(
      'body is not valid JSON',
    );
    expect((await call(app.url, 'POST', '/api/block/3', { target: 4242 })).body.message).toBe('no user 4242');
    expect((await call(app.url, 'GET', '/api/block/999')).status).toBe(404);
    const badId = await call(app.url, 'GET', '/api/block/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.message).toBe('user id must be a positive integer, got "abc"');
    const put = await call(app.url, 'PUT', '/api/block/3');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
  });

  it('echoes x-request-id and stamps block lists with a fresh generated_at (noise)', async () => {
    const a = await call(app.url, 'GET', '/api/block/2', undefined, { 'x-request-id': 'req-123' });
    const b = await call(app.url, 'GET', '/api/block/2');
    expect(a.headers.get('x-request-id')).toBe('req-123');
    expect(b.headers.get('x-request-id')).toBeNull();
    expect(a.body.generated_at).not.toBe(b.body.generated_at);
    expect({ ...a.body, generated_at: 0 }).toEqual({ ...b.body, generated_at: 0 });
  });

  it('logs in, and refuses chat between blocked users until unblocked', async () => {
    const sender = (await call(app.url, 'GET', '/api/users/10')).body;
    const wrong = await call(app.url, 'POST', '/api/auth/login', {
      username: sender.username,
      password: 'no',
    });
    expect(wrong.status).toBe(401);
    const login = await call(app.url, 'POST', '/api/auth/login', {
      username: sender.username,
      password: `password-${sender.username}`,
    });
    expect(login.status).toBe(200);
    const auth = { authorization: `Bearer ${login.body.token}` };

    expect((await call(app.url, 'POST', '/api/chat/messages', { to: 11, body: 'hi' })).status).toBe(401);
    await call(app.url, 'DELETE', '/api/block/11/10');
    expect((await call(app.url, 'POST', '/api/block/11', { target: 10 })).status).toBe(201);
    const refused = await call(app.url, 'POST', '/api/chat/messages', { to: 11, body: 'hi' }, auth);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('blocked');

    expect((await call(app.url, 'DELETE', '/api/block/11/10')).status).toBe(200);
    const sent = await call(app.url, 'POST', '/api/chat/messages', { to: 11, body: 'hi again' }, auth);
    expect(sent.status).toBe(201);
    const convo = await call(app.url, 'GET', '/api/chat/messages?with=11', undefined, auth);
    expect(convo.body.blocked).toBe(false);
    expect(convo.body.messages.at(-1)).toMatchObject({ from: 10, to: 11, body: 'hi again' });
  });

  it('serves translations from the database', async () => {
    expect((await call(app.url, 'GET', '/api/i18n')).body.languages).toEqual(['de', 'en', 'es', 'fr']);
    const fr = await call(app.url, 'GET', '/api/i18n/fr');
    expect(fr.body.messages.greeting).toBe('Bonjour');
    expect((await call(app.url, 'GET', '/api/i18n/xx')).status).toBe(404);
  });

  it('offers echo and slow endpoints for proxy tests', async () => {
    const echo = await call(app.url, 'POST', '/api/echo?a=1', 'payload', { 'x-test': 'yes' });
    expect(echo.body).toMatchObject({
      method: 'POST',
      path: '/api/echo',
      query: { a: '1' },
      body: 'payload',
    });
    expect(echo.body.headers['x-test']).toBe('yes');
    expect((await call(app.url, 'GET', '/api/slow?ms=20')).body).toEqual({ slept_ms: 20 });
    expect((await call(app.url, 'GET', '/api/slow?ms=999999')).status).toBe(400);
  });
});
