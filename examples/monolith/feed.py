"""The home feed: recent posts, minus anyone on either side of a block."""

from monolith import block, db, users


def feed_for(user_id, limit=20):
    seen = block.check(user_id)
    hidden_ids = set(seen["blocked"]) | set(seen["blocked_by"])
    rows = db.query("SELECT id, user_id, body, created_at FROM posts ORDER BY created_at DESC, id DESC LIMIT ?",
                    (limit + len(hidden_ids) * 10,))
    posts, hidden = [], 0
    for row in rows:
        if row["user_id"] in hidden_ids:
            hidden += 1
            continue
        if len(posts) < limit:
            posts.append(row)
    authors = users.get_many(r["user_id"] for r in posts)
    return {
        "user": user_id,
        "posts": [{"id": r["id"], "author": _author(authors.get(r["user_id"])), "body": r["body"],
                   "created_at": r["created_at"]} for r in posts],
        "hidden": hidden,
    }


def _author(user):
    return {"id": user.id, "username": user.username, "display_name": user.display_name} if user else None


def create_post(user_id, body):
    cur = db.execute("INSERT INTO posts (user_id, body, created_at) VALUES (?, ?, ?)", (user_id, body, db.now_iso()))
    return {"id": cur.lastrowid, "user": user_id, "body": body}
