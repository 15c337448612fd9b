"""SQLite access: one connection per thread, the schema, the seed data and the
queries every feature shares.

The extracted block-service (TypeScript) opens the same file, so the database
runs in WAL mode with a busy timeout: two processes read and write it at once
without "database is locked" errors.
"""

import os
import random
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


# --- schema and seed -------------------------------------------------------

FIRST = ["ada", "alan", "grace", "linus", "barbara", "ken", "dennis", "margaret", "edsger", "donald",
         "frances", "john", "radia", "tim", "sophie", "niklaus", "leslie", "guido", "yukihiro", "anders",
         "bjarne", "james", "larry", "rasmus", "brendan"]
LAST = ["lovelace", "turing", "hopper", "torvalds", "liskov", "thompson", "ritchie", "hamilton",
        "dijkstra", "knuth"]
LANGS = ["en", "en", "en", "fr", "de", "es"]
POST_BODIES = [
    "Shipping the new release today.", "Anyone up for coffee?", "Reading about B-trees again.",
    "Finally fixed that flaky test.", "Hot take: tabs are fine.", "Working from the library.",
    "Who else is at the conference?", "Migrating a monolith, one route at a time.",
    "New blog post is up.", "Weekend hike pictures soon.",
]
I18N = {
    "en": {"greeting": "Hello", "blocked": "You cannot message this user", "feed.empty": "Nothing new",
           "login.failed": "Wrong username or password"},
    "fr": {"greeting": "Bonjour", "blocked": "Vous ne pouvez pas écrire à cet utilisateur",
           "feed.empty": "Rien de nouveau", "login.failed": "Nom d'utilisateur ou mot de passe incorrect"},
    "de": {"greeting": "Hallo", "blocked": "Sie können diesem Benutzer nicht schreiben",
           "feed.empty": "Nichts Neues", "login.failed": "Falscher Benutzername oder falsches Passwort"},
    "es": {"greeting": "Hola", "blocked": "No puedes escribir a este usuario", "feed.empty": "Nada nuevo",
           "login.failed": "Usuario o contraseña incorrectos"},
}
SEED_USERS = 50


def _seed_time(rng, day_span=30):
    day = rng.randrange(day_span)
    return "2026-10-%02dT%02d:%02d:%02d.000000Z" % (1 + day % 28, rng.randrange(24), rng.randrange(60),
                                                     rng.randrange(60))


def init(seed=42):
    """Create the schema if missing and seed a fresh database. Returns True if it seeded."""
    conn = connect()
    # WAL lets the block-service read while the monolith writes (and back).
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SCHEMA)
    if query_one("SELECT COUNT(*) AS n FROM users")["n"] > 0:
        return False
    from monolith import auth  # seeding needs password hashing; auth imports db, so import late

    rng = random.Random(seed)
    with transaction() as c:
        for i in range(1, SEED_USERS + 1):
            first, last = FIRST[(i - 1) % len(FIRST)], LAST[(i * 7) % len(LAST)]
            username = "%s%d" % (first, i)
            salt, digest = auth.hash_password("password-" + username, salt="seed-salt-%d" % i)
            c.execute(
                "INSERT INTO users (id, username, display_name, email, lang, password_salt, password_hash,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (i, username, "%s %s" % (first.title(), last.title()), "%s@example.test" % username,
                 LANGS[i % len(LANGS)], salt, digest, _seed_time(rng)),
            )
        pairs = set()
        while len(pairs) < 40:
            a, b = rng.randint(1, SEED_USERS), rng.randint(1, SEED_USERS)
            if a != b:
                pairs.add((a, b))
        for a, b in sorted(pairs):
            c.execute("INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (?, ?, ?)",
                      (a, b, _seed_time(rng)))
        for _ in range(200):
            c.execute("INSERT INTO posts (user_id, body, created_at) VALUES (?, ?, ?)",
                      (rng.randint(1, SEED_USERS), rng.choice(POST_BODIES), _seed_time(rng)))
        for _ in range(80):
            a, b = rng.sample(range(1, SEED_USERS + 1), 2)
            c.execute("INSERT INTO messages (sender_id, recipient_id, body, created_at) VALUES (?, ?, ?, ?)",
                      (a, b, rng.choice(POST_BODIES), _seed_time(rng)))
        for lang, entries in I18N.items():
            for key, text in entries.items():
                c.execute("INSERT INTO i18n_messages (lang, key, text) VALUES (?, ?, ?)", (lang, key, text))
    return True


def close():
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
        _local.conn = None
