"""The scenarios' request bodies in Python, mirroring ``wrk/*.lua`` for the stand-in load generator."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path

BOOK = "mutation($i: BookSlotInput!) { bookSlot(input: $i) { booking { id } error { code } } }"
WEEK = ("query($ids: [ID!]!, $w: TimeWindowInput!) { availability(resourceIds: $ids, window: $w) "
        "{ version busy { start end } free { start end } } }")


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _body(query: str, variables: Mapping[str, object] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def factory(scenario: str, env: dict[str, str]) -> Callable[[int, int], bytes]:
    base = int(env.get("BASE_EPOCH", "0"))
    if scenario == "hello":
        return lambda c, n: _body("{ hello }")
    if scenario == "typename":
        return lambda c, n: _body("{ __typename }")
    if scenario == "availability_week":
        variables = {"ids": [env["WEEK_RESOURCE"]], "w": {"start": iso(base), "end": iso(base + 7 * 86400)}}
        return lambda c, n: _body(WEEK, variables)
    if scenario == "book_uncontended":
        ids = Path(env["IDS_FILE"]).read_text().split()

        def uncontended(c: int, n: int) -> bytes:
            start = base + c * 400 * 86400 + n // len(ids) * 1800
            return _body(BOOK, {"i": {"clientMutationId": f"u-{base}-{c}-{n}", "resourceId": ids[n % len(ids)],
                                      "start": iso(start), "end": iso(start + 1800)}})
        return uncontended
    if scenario == "book_hot":
        every = int(env.get("DAY_EVERY", "40"))

        def hot(c: int, n: int) -> bytes:
            start = base + n // every * 86400 + random.randint(0, 92) * 900
            return _body(BOOK, {"i": {"clientMutationId": f"h-{base}-{c}-{n}", "resourceId": env["HOT_RESOURCE"],
                                      "start": iso(start), "end": iso(start + 3600)}})
        return hot
    raise ValueError(f"unknown scenario {scenario!r}")
