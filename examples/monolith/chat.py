"""Direct messages between users who have not blocked each other."""

from monolith import auth, block, db, users

try:
    from monolith import i18n
except ImportError:  # chat still works, in English, if translations are not deployed
    i18n = None


class ChatError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _text(key, lang, fallback):
    return i18n.translate(key, lang) if i18n else fallback


def send(headers, to_id, body):
    sender = auth.current_user(headers)
    if sender is None:
        raise ChatError(401, "unauthorized", "log in first: Authorization: Bearer TOKEN")
    recipient = users.get(to_id)
    if recipient is None:
        raise ChatError(404, "not_found", "no user %d" % to_id)
    if block.either_blocked(sender.id, recipient.id):
        raise ChatError(403, "blocked", _text("blocked", sender.lang, "You cannot message this user"))
    cur = db.execute("INSERT INTO messages (sender_id, recipient_id, body, created_at) VALUES (?, ?, ?, ?)",
                     (sender.id, recipient.id, body, db.now_iso()))
    return {"id": cur.lastrowid, "from": sender.id, "to": recipient.id, "body": body}


def conversation(headers, other_id, limit=50):
    me = auth.current_user(headers)
    if me is None:
        raise ChatError(401, "unauthorized", "log in first: Authorization: Bearer TOKEN")
    rows = db.query(
        "SELECT id, sender_id, recipient_id, body, created_at FROM messages"
        " WHERE (sender_id = ? AND recipient_id = ?) OR (sender_id = ? AND recipient_id = ?)"
        " ORDER BY created_at, id LIMIT ?",
        (me.id, other_id, other_id, me.id, limit),
    )
    return {
        "with": other_id,
        "blocked": block.either_blocked(me.id, other_id),
        "messages": [{"id": r["id"], "from": r["sender_id"], "to": r["recipient_id"], "body": r["body"],
                      "created_at": r["created_at"]} for r in rows],
    }
