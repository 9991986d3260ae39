"""State the gateway keeps: the durable store, and later shared caches and sessions."""
