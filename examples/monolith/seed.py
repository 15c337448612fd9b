"""Demo data: 50 users, their blocks, posts, messages and translations.

Deterministic (a seeded random generator) so every fresh database is the same.
Passwords are `password-<username>`.
"""

import random

from monolith import auth, db

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


def ensure(seed=42):
    """Create the schema if missing and seed a fresh database. Returns True if it seeded."""
    if not db.init_schema():
        return False
    rng = random.Random(seed)
    with db.transaction() as c:
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


