"""User records and their public shape."""

from dataclasses import dataclass

from .db import query, query_one


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    lang: str
    created_at: str

    def public(self):
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "lang": self.lang, "created_at": self.created_at}


def _from_row(row):
    return User(row["id"], row["username"], row["display_name"], row["lang"], row["created_at"])


def get(user_id):
    row = query_one("SELECT id, username, display_name, lang, created_at FROM users WHERE id = ?", (user_id,))
    return _from_row(row) if row else None


def by_username(username):
    row = query_one("SELECT id, username, display_name, lang, created_at FROM users WHERE username = ?",
                    (username,))
    return _from_row(row) if row else None


def get_many(ids):
    ids = list(set(ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = query("SELECT id, username, display_name, lang, created_at FROM users WHERE id IN (%s)" % marks, ids)
    return {row["id"]: _from_row(row) for row in rows}


def list_users(limit=20, offset=0):
    rows = query("SELECT id, username, display_name, lang, created_at FROM users ORDER BY id LIMIT ? OFFSET ?",
                 (limit, offset))
    total = query_one("SELECT COUNT(*) AS n FROM users")["n"]
    return [_from_row(r) for r in rows], total
