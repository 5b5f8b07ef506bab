"""Ids unique across processes and restarts in practice, without a system call each.

``secrets.token_hex`` reads ``os.urandom`` for every id: a system call per request, and one
more per range-lock hold. Here each process draws a random prefix once (again in a forked
child) and counts: two processes collide only if they draw the same prefix, odds of about
``n**2 / 2**(8*prefix_bytes+1)`` for ``n`` processes ever started.
"""

from __future__ import annotations

import itertools
import os


class UniqueIds:
    """Callable: the next id, ``<random prefix hex><counter, at least 8 hex digits>``."""

    def __init__(self, prefix_bytes: int = 8) -> None:
        self._prefix_bytes = prefix_bytes
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)  # a forked worker draws its own prefix

    def reseed(self) -> None:
        self._prefix = os.urandom(self._prefix_bytes).hex()
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):08x}"
