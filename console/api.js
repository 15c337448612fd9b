/**
 * The admin API, from the page's own origin only. The token lives in this
 * tab's sessionStorage and goes out as `Authorization: Bearer`, never as a
 * cookie: a page on another origin can make the browser send cookies, not
 * this header, so state-changing requests cannot be forged (no CSRF).
 */
const TOKEN_KEY = 'strangler.adminToken';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * Who is acting: asked once with the token and kept in localStorage (a name,
 * not a secret), sent as `actor` with every change, which the admin API
 * records as `admin:NAME` — every console action used to be audited as
 * `admin`, and the audit log could not say who (issue 26).
 */
const ACTOR_KEY = 'strangler.actor';

export const actor = {
  get: () => localStorage.getItem(ACTOR_KEY) ?? '',
  set: (name) => localStorage.setItem(ACTOR_KEY, name),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? `HTTP_${status}`;
    this.details = body?.details;
  }
}

function authHeaders(t = token.get()) {
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function answer(res) {
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export async function getJson(path, withToken) {
  const res = await fetch(path, {
    headers: { accept: 'application/json', ...(withToken ? authHeaders(withToken) : {}) },
    cache: 'no-store',
    credentials: 'omit',
  });
  return answer(res);
}

export async function postJson(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() },
    body: JSON.stringify({ ...body, actor: actor.get() || undefined }),
    cache: 'no-store',
    credentials: 'omit',
  });
  return answer(res);
}
