"""SQLite access: one connection per thread, the schema and the queries every
feature shares. The base layer: it imports nothing of the monolith.

The extracted block-service (TypeScript) opens the same file, so the database
runs in WAL mode with a busy timeout: two processes read and write it at once
without "database is locked" errors.
"""

import os
import sqlite3
import threading
from datetime import datetime, timezone

DEFAULT_PATH = "monolith.db"
BUSY_TIMEOUT_S = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT NOT NULL,
    lang          TEXT NOT NULL DEFAULT 'en',
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token      TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    blocked_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX IF NOT EXISTS blocks_by_blocked ON blocks(blocked_id);
CREATE TABLE IF NOT EXISTS posts (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_by_time ON posts(created_at DESC);
CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY,
    sender_id    INTEGER NOT NULL REFERENCES users(id),
    recipient_id INTEGER NOT NULL REFERENCES users(id),
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS i18n_messages (
    lang TEXT NOT NULL,
    key  TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (lang, key)
);
"""

_path = os.environ.get("MONOLITH_DB", DEFAULT_PATH)
_local = threading.local()


def configure(path):
    """Point every later connection at `path` (before the first request)."""
    global _path
    _path = path


def path():
    return _path


def now_iso():
    """UTC timestamp with microseconds, e.g. 2026-11-25T22:04:25.123456Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect():
    """This thread's connection (sqlite3 connections are not shared across threads)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        # isolation_level=None: autocommit; multi-statement changes use transaction().
        conn = sqlite3.connect(_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = %d" % int(BUSY_TIMEOUT_S * 1000))
        _local.conn = conn
    return conn


class transaction:
    """`with db.transaction() as conn:` — BEGIN IMMEDIATE ... COMMIT / ROLLBACK."""

    def __enter__(self):
        self.conn = connect()
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def query(sql, params=()):
    return connect().execute(sql, params).fetchall()


def query_one(sql, params=()):
    return connect().execute(sql, params).fetchone()


def execute(sql, params=()):
    return connect().execute(sql, params)


def user_exists(user_id):
    return query_one("SELECT 1 FROM users WHERE id = ?", (user_id,)) is not None


# --- schema ------------------------------------------------------------------

def init_schema():
    """Create the tables if missing. Returns True if the database has no users yet."""
    conn = connect()
    # WAL lets the block-service read while the monolith writes (and back).
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SCHEMA)
    return query_one("SELECT COUNT(*) AS n FROM users")["n"] == 0


def close():
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
        _local.conn = None
