"""Passwords and bearer-token sessions."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Optional

from monolith import db

if TYPE_CHECKING:
    # Only for annotations: at run time auth reads users through db, which keeps
    # login working while the users module is being moved elsewhere.
    from monolith.users import User

SESSION_HOURS = 12
# Low on purpose: a demo app, and tests log in many times.
PBKDF2_ROUNDS = 2000


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ROUNDS).hex()
    return salt, digest


def login(username, password):
    """A new session for good credentials, else None."""
    row = db.query_one("SELECT id, password_salt, password_hash FROM users WHERE username = ?", (username,))
    if row is None:
        # Hash anyway so a wrong username costs as long as a wrong password.
        hash_password(password)
        return None
    _, digest = hash_password(password, row["password_salt"])
    if not hmac.compare_digest(digest, row["password_hash"]):
        return None
    token = secrets.token_urlsafe(24)
    created = datetime.now(timezone.utc)
    expires = (created + timedelta(hours=SESSION_HOURS)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    db.execute("INSERT INTO sessions (token, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
               (token, row["id"], db.now_iso(), expires))
    return {"token": token, "user_id": row["id"], "expires_at": expires}


def user_id_for_token(token) -> Optional[int]:
    if not token:
        return None
    row = db.query_one("SELECT user_id FROM sessions WHERE token = ? AND expires_at > ?", (token, db.now_iso()))
    return row["user_id"] if row else None


def current_user(headers) -> Optional["User"]:
    """The user behind `Authorization: Bearer TOKEN`, or None."""
    value = headers.get("Authorization") or ""
    if not value.startswith("Bearer "):
        return None
    user_id = user_id_for_token(value[len("Bearer "):].strip())
    if user_id is None:
        return None
    from monolith import users  # late: see the TYPE_CHECKING note above

    return users.get(user_id)


def logout(token):
    db.execute("DELETE FROM sessions WHERE token = ?", (token,))
