"""Statements written with ``:name`` parameters, compiled once to asyncpg's ``$n``."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class SQL:
    """A statement whose parameters are named (readable) but sent positionally (asyncpg)."""

    __slots__ = ("names", "text")

    def __init__(self, text: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        self.text = _PARAM.sub(number, text)
        self.names = tuple(names)

    def args(self, params: Mapping[str, object]) -> list[object]:
        missing = [n for n in self.names if n not in params]
        if missing:
            raise KeyError(f"parameters missing for the statement: {missing}")
        return [params[n] for n in self.names]
