"""A small social app: users, blocks, a feed, chat and translations.

It is the legacy monolith that strangler stands in front of. Standard library
only. Run from the examples/ folder:

    python3 -m monolith.server --port 8000 --db monolith.db
"""

__version__ = "1.4.2"


def _find_strangler_client():
    """The demo runs from a strangler checkout: use its clients/python when the client is not installed."""
    import importlib.util
    import os
    import sys

    if importlib.util.find_spec("strangler_client") is None:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.append(os.path.join(here, "..", "..", "clients", "python"))


_find_strangler_client()
