"""The built-in knowledge base: entry files and their retrieval index."""
