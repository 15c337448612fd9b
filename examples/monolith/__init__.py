"""A small social app: users, blocks, a feed, chat and translations.

It is the legacy monolith that strangler stands in front of. Standard library
only. Run from the examples/ folder:

    python3 -m monolith.server --port 8000 --db monolith.db
"""

__version__ = "1.4.2"
