"""Databases made for one run (the tests, the benchmarks, the torture tool): created, then
dropped by the name they were created under, so nothing else on the server is ever touched."""

from __future__ import annotations

import os
import secrets
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` pointed at database ``name`` (credentials, host and options kept)."""
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


async def create_database(admin_url: str, prefix: str, application_name: str = "booking-scratch") -> str:
    """A new empty database named ``<prefix>_<time>_<pid>_<random>``; its name."""
    name = f"{prefix}_{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"', application_name)
    return name


async def drop_database(admin_url: str, name: str, application_name: str = "booking-scratch") -> None:
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', application_name)


async def _admin(admin_url: str, sql: str, application_name: str) -> None:
    conn = await asyncpg.connect(admin_url, server_settings={"application_name": application_name})
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
