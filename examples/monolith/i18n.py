"""Translated UI strings, stored in the database so support can edit them."""

from . import db

DEFAULT_LANG = "en"


def languages():
    return [r["lang"] for r in db.query("SELECT DISTINCT lang FROM i18n_messages ORDER BY lang")]


def messages(lang):
    rows = db.query("SELECT key, text FROM i18n_messages WHERE lang = ? ORDER BY key", (lang,))
    return {r["key"]: r["text"] for r in rows}


def translate(key, lang=DEFAULT_LANG):
    row = db.query_one("SELECT text FROM i18n_messages WHERE lang = ? AND key = ?", (lang, key))
    if row is None and lang != DEFAULT_LANG:
        return translate(key, DEFAULT_LANG)
    return row["text"] if row else key
