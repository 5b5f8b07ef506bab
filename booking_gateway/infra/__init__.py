"""Adapters: PostgreSQL, Redis, embedded servers and settings. They implement the domain's ports."""
