"""State the gateway keeps: the durable store (SQLite or PostgreSQL, ``store.py`` and its
``migrations/``), and what workers share through Redis or keep in process — conversations
(``sessions.py``), circuit breakers (``breakers.py``) and hot-question counts (``hot.py``)."""
