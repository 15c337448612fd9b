"""Routing and request handlers: (method, path, query, headers, body) -> Response.

Kept apart from the socket code in server.py so the handlers read as plain
functions. Every body is JSON; errors are {"error": CODE, "message": TEXT}.
"""

import json
import re
import time
from urllib.parse import parse_qs

from monolith import __version__, auth, block, db, feed, i18n, users

MAX_SLOW_MS = 10_000
MAX_ID = 2**31 - 1


class Response:
    __slots__ = ("status", "payload", "headers")

    def __init__(self, status, payload=None, headers=None):
        self.status, self.payload, self.headers = status, payload, headers or {}


class HttpError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status, code, message):
    return Response(status, {"error": code, "message": message})


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.query = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        self.params = {}

    def json(self):
        if not self.body:
            raise HttpError(400, "bad_request", "body must be a JSON object")
        try:
            value = json.loads(self.body)
        except ValueError:
            # No parser detail: the extracted block-service must answer the same text.
            raise HttpError(400, "bad_request", "body is not valid JSON") from None
        if not isinstance(value, dict):
            raise HttpError(400, "bad_request", "body must be a JSON object")
        return value

    def id_param(self, name):
        raw = self.params[name]
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            raise HttpError(400, "bad_request", '%s id must be a positive integer, got "%s"' % (name, raw))
        return int(raw)

    def int_query(self, name, default, low, high):
        raw = self.query.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
            raise HttpError(400, "bad_request", 'query "%s" must be an integer from %d to %d, got "%s"'
                            % (name, low, high, raw))
        return int(raw)


def _int_field(body, name):
    value = body.get(name)
    # bool is an int subclass in Python; true is not a user id. The upper bound
    # keeps ids inside what SQLite and JavaScript numbers both hold exactly.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise HttpError(400, "bad_request", 'field "%s" must be an integer user id' % name)
    return value


def _str_field(body, name, max_len=2000):
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise HttpError(400, "bad_request", 'field "%s" must be a non-empty string of at most %d characters'
                        % (name, max_len))
    return value


def _need_user(user_id):
    if not db.user_exists(user_id):
        raise HttpError(404, "not_found", "no user %d" % user_id)


def _need_login(req):
    me = auth.current_user(req.headers)
    if me is None:
        raise HttpError(401, "unauthorized", "log in first: Authorization: Bearer TOKEN")
    return me


# --- handlers --------------------------------------------------------------

def healthz(req):
    return Response(200, {"status": "ok", "version": __version__})


def list_users(req):
    limit = req.int_query("limit", 20, 1, 100)
    offset = req.int_query("offset", 0, 0, 10**9)
    rows, total = users.list_users(limit, offset)
    return Response(200, {"users": [u.public() for u in rows], "total": total, "limit": limit, "offset": offset})


def get_user(req):
    user = users.get(req.id_param("user"))
    if user is None:
        raise HttpError(404, "not_found", "no user %d" % req.id_param("user"))
    return Response(200, user.public())


def login(req):
    body = req.json()
    username, password = _str_field(body, "username", 100), _str_field(body, "password", 200)
    session = auth.login(username, password)
    if session is None:
        raise HttpError(401, "unauthorized", i18n.translate("login.failed"))
    return Response(200, session)


def logout(req):
    _need_login(req)
    auth.logout(req.headers.get("Authorization", "")[len("Bearer "):].strip())
    return Response(200, {"ok": True})


def block_list(req):
    user_id = req.id_param("user")
    _need_user(user_id)
    blocked = block.list_blocked(user_id)
    return Response(200, {"user": user_id, "blocked": blocked, "count": len(blocked), "generated_at": db.now_iso()})


def block_check(req):
    user_id, other_id = req.id_param("user"), req.id_param("other")
    _need_user(user_id)
    _need_user(other_id)
    return Response(200, {"user": user_id, "other": other_id, "blocked": block.is_blocked(user_id, other_id)})


def block_create(req):
    user_id = req.id_param("user")
    _need_user(user_id)
    target = _int_field(req.json(), "target")
    if target == user_id:
        raise HttpError(400, "bad_request", "a user cannot block themselves")
    _need_user(target)
    record, created = block.block(user_id, target)
    return Response(201 if created else 200, record)


def block_delete(req):
    user_id, other_id = req.id_param("user"), req.id_param("other")
    _need_user(user_id)
    if not block.unblock(user_id, other_id):
        raise HttpError(404, "not_found", "user %d has not blocked user %d" % (user_id, other_id))
    return Response(200, {"user": user_id, "other": other_id, "removed": True})


def get_feed(req):
    user_id = req.id_param("user")
    _need_user(user_id)
    result = feed.feed_for(user_id, req.int_query("limit", 20, 1, 100))
    result["generated_at"] = db.now_iso()
    return Response(200, result)


def create_post(req):
    me = _need_login(req)
    return Response(201, feed.create_post(me.id, _str_field(req.json(), "body")))


def _chat():
    # Imported on first use: chat pulls in auth and i18n, which the health
    # check and the block endpoints never need.
    from monolith import chat

    return chat


def chat_send(req):
    chat = _chat()
    body = req.json()
    to_id, text = _int_field(body, "to"), _str_field(body, "body")
    try:
        return Response(201, chat.send(req.headers, to_id, text))
    except chat.ChatError as exc:
        raise HttpError(exc.status, exc.code, exc.message) from None


def chat_conversation(req):
    chat = _chat()
    raw = req.query.get("with", "")
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise HttpError(400, "bad_request", 'query "with" must be a user id, got "%s"' % raw)
    try:
        return Response(200, chat.conversation(req.headers, int(raw)))
    except chat.ChatError as exc:
        raise HttpError(exc.status, exc.code, exc.message) from None


def i18n_languages(req):
    return Response(200, {"languages": i18n.languages()})


def i18n_messages(req):
    lang = req.params["lang"]
    messages = i18n.messages(lang)
    if not messages:
        raise HttpError(404, "not_found", 'no translations for language "%s"' % lang)
    return Response(200, {"lang": lang, "messages": messages})


def echo(req):
    return Response(200, {
        "method": req.method, "path": req.path, "query": req.query,
        "headers": {k.lower(): v for k, v in req.headers.items()},
        "body": req.body.decode("utf-8", "replace"),
    })


def slow(req):
    ms = req.int_query("ms", 100, 0, MAX_SLOW_MS)
    time.sleep(ms / 1000)
    return Response(200, {"slept_ms": ms})


ANY = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

ROUTES = [
    (("GET",), "/healthz", healthz),
    (("GET",), "/api/users", list_users),
    (("GET",), "/api/users/:user", get_user),
    (("POST",), "/api/auth/login", login),
    (("POST",), "/api/auth/logout", logout),
    (("GET",), "/api/block/:user", block_list),
    (("POST",), "/api/block/:user", block_create),
    (("GET",), "/api/block/:user/:other", block_check),
    (("DELETE",), "/api/block/:user/:other", block_delete),
    (("GET",), "/api/feed/:user", get_feed),
    (("POST",), "/api/posts", create_post),
    (("POST",), "/api/chat/messages", chat_send),
    (("GET",), "/api/chat/messages", chat_conversation),
    (("GET",), "/api/i18n", i18n_languages),
    (("GET",), "/api/i18n/:lang", i18n_messages),
    (ANY, "/api/echo", echo),
    (("GET",), "/api/slow", slow),
]


def _compile(pattern):
    return re.compile("^" + re.sub(r":([a-z]+)", r"(?P<\1>[^/]+)", pattern) + "/?$")


COMPILED = [(methods, _compile(pattern), handler) for methods, pattern, handler in ROUTES]


def dispatch(method, path, query, headers, body):
    req = Request(method, path, query, headers, body)
    allowed = []
    for methods, regex, handler in COMPILED:
        m = regex.match(path)
        if not m:
            continue
        if method not in methods:
            allowed.extend(methods)
            continue
        req.params = m.groupdict()
        try:
            return handler(req)
        except HttpError as exc:
            return error(exc.status, exc.code, exc.message)
    if allowed:
        return Response(405, {"error": "method_not_allowed", "message": "%s is not allowed on %s" % (method, path)},
                        {"Allow": ", ".join(sorted(set(allowed)))})
    return error(404, "not_found", "no route for %s %s" % (method, path))
