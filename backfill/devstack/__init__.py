"""The embedded local stack: Postgres+pgvector, fakesnow server, OpenAI-compatible simulator."""
