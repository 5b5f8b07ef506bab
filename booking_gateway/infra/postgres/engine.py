"""Engines from the plain ``postgresql://`` URLs operators write; the driver is our business."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def driver_url(url: str, driver: str = "asyncpg") -> str:
    """``postgresql://u@h/db`` -> ``postgresql+asyncpg://u@h/db`` (query kept: ``?host=/socket``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") and not parts.scheme.startswith("postgresql+"):
        raise ValueError(f"not a PostgreSQL URL: {redact(url)}")
    return urlunsplit(parts._replace(scheme=f"postgresql+{driver}"))


def redact(url: str) -> str:
    """The URL without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10,
                  application_name: str = "booking-gateway") -> AsyncEngine:
    """A pooled async engine.

    ``pool_reset_on_return=None``: every transaction is committed or rolled back by its
    owner, and single statements run in autocommit, so the reset query would be wasted
    work on every release. ``pool_pre_ping`` turns a connection killed under us
    (failover, ``pg_terminate_backend``) into a fresh one instead of a failed request.
    """
    return create_async_engine(
        driver_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_reset_on_return=None,
        pool_timeout=10,
        connect_args={"server_settings": {"application_name": application_name}},
    )
