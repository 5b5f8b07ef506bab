"""The domain imports only the standard library and itself, so it stays free of I/O frameworks."""

import ast
import sys
from pathlib import Path

import pytest

import booking_gateway.domain

DOMAIN = Path(booking_gateway.domain.__file__).parent
PACKAGE = "booking_gateway.domain"


def foreign_imports(source: str, filename: str = "<source>") -> list[str]:
    """Modules imported by ``source`` that are neither the standard library nor the domain."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:  # relative: inside the domain package
                continue
            names = [node.module or ""]
        else:
            continue
        found += [name for name in names if not _allowed(name)]
    return found


def _allowed(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".") or (
        module.split(".")[0] in sys.stdlib_module_names)


def domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_the_domain_has_modules_to_check() -> None:
    names = {path.name for path in domain_modules()}
    assert {"time_window.py", "book_slot.py", "ports.py", "__init__.py"} <= names


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.name)
def test_domain_module_imports_only_stdlib_and_domain(path: Path) -> None:
    assert foreign_imports(path.read_text(), str(path)) == []


@pytest.mark.parametrize("source", [
    "import sqlalchemy",
    "import redis.asyncio",
    "from strawberry import type",
    "from booking_gateway.infra.settings import Settings",
    "from booking_gateway import infra",
    "import os, httpx",
    "def f():\n    import asyncpg\n",
    "if TYPE_CHECKING:\n    from starlette.requests import Request\n",
])
def test_the_check_catches_foreign_imports(source: str) -> None:
    assert foreign_imports(source) != []


@pytest.mark.parametrize("source", [
    "from __future__ import annotations",
    "import zoneinfo",
    "from collections.abc import Sequence",
    "from booking_gateway.domain.errors import ValidationFailed",
    "from booking_gateway.domain import rules",
    "from . import rules",
])
def test_the_check_allows_stdlib_and_domain_imports(source: str) -> None:
    assert foreign_imports(source) == []
