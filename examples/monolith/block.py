"""Blocking: a user hides another user from their feed and chat.

Depends on db only — that is why it is the first feature to extract.
"""

import strangler_client as strangler

from monolith import db


# idempotent=True: a read, so it may run locally while this process has not yet
# heard from the proxy (the config's `idempotent: true` says the same once it has).
@strangler.extracted("block-check", sticky=lambda user_id, *_: user_id, idempotent=True)
def check(user_id):
    """Who `user_id` must not see, and who must not see them: the check feed and chat make.

    An extraction point (docs/extraction-points.md): in strangler's `service`
    mode block-service answers it (POST /internal/block-check); this body is
    the fallback and the legacy side of the shadow comparison.
    """
    return {"blocked": list_blocked(user_id), "blocked_by": blocked_by(user_id)}


def list_blocked(user_id):
    rows = db.query("SELECT blocked_id FROM blocks WHERE user_id = ? ORDER BY blocked_id", (user_id,))
    return [r["blocked_id"] for r in rows]


def blocked_by(user_id):
    """Users who blocked `user_id`."""
    rows = db.query("SELECT user_id FROM blocks WHERE blocked_id = ? ORDER BY user_id", (user_id,))
    return [r["user_id"] for r in rows]


def is_blocked(user_id, other_id):
    return db.query_one("SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?",
                        (user_id, other_id)) is not None


def either_blocked(a, b):
    """True if a blocked b or b blocked a: chat is closed both ways."""
    seen = check(a)
    return b in seen["blocked"] or b in seen["blocked_by"]


def get(user_id, other_id):
    row = db.query_one("SELECT user_id, blocked_id, created_at FROM blocks WHERE user_id = ? AND blocked_id = ?",
                       (user_id, other_id))
    return record(row) if row else None


def block(user_id, target_id):
    """Block target; returns (record, created). Blocking twice keeps the first record."""
    with db.transaction() as conn:
        cur = conn.execute("INSERT OR IGNORE INTO blocks (user_id, blocked_id, created_at) VALUES (?, ?, ?)",
                           (user_id, target_id, db.now_iso()))
        created = cur.rowcount == 1
        row = conn.execute("SELECT user_id, blocked_id, created_at FROM blocks WHERE user_id = ? AND blocked_id = ?",
                           (user_id, target_id)).fetchone()
    return record(row), created


def unblock(user_id, other_id):
    """True if a block was removed."""
    return db.execute("DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?", (user_id, other_id)).rowcount == 1


def record(row):
    return {"user": row["user_id"], "target": row["blocked_id"], "created_at": row["created_at"]}
