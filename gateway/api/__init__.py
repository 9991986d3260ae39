"""The HTTP API, versioned under /api/v1."""
