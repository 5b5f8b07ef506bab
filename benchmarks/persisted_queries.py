"""What a persisted document costs the gateway to admit, against the same document sent as text.

    .venv/bin/python -m benchmarks.persisted_queries            # 3 interleaved rounds, 20,000 admissions each
    .venv/bin/python -m benchmarks.run --persisted-queries      # the same, from the suite's entry point

One process, one real Redis (BOOKING_BENCH_REDIS_URL, default the test Redis; keys under a prefix
of their own, deleted afterwards). Each mode admits the same document through
:class:`~booking_gateway.web.admission.Admission` (the step that differs between them; execution
is the same afterwards): full text (the document cache's hit, the baseline), a known hash (the
process's LRU), a hash read from Redis (an LRU of size 0: another process registered it), and
trusted-documents mode. Modes alternate within each round and the ratio is taken within the
round, so the machine's drift between minutes cancels out; the median round is printed, with
the request body each mode sends.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from statistics import median
from uuid import uuid4

import redis.asyncio as aioredis

from booking_gateway.infra.redis.persisted_queries import PersistedQueryLimits, RedisPersistedQueries
from booking_gateway.schema.build import build_schema
from booking_gateway.web.admission import Admission, Admitted, Request
from booking_gateway.web.documents import DocumentCache, DocumentLimits
from booking_gateway.web.persisted import AutomaticPersistedQueries, PersistedDocuments
from booking_gateway.web.trusted_documents import TrustedDocuments

URL = os.environ.get("BOOKING_BENCH_REDIS_URL", os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
DOCUMENT = """query Availability($ids: [ID!]!, $window: TimeWindowInput!) {
  availability(resourceIds: $ids, window: $window) {
    id resourceId version window { start end } busy { start end } free { start end }
  }
  resources(first: 20) { edges { cursor node { id name timeZone } } pageInfo { hasNextPage endCursor } }
}"""
HASH = hashlib.sha256(DOCUMENT.encode()).hexdigest()
VARIABLES = {"ids": ["UmVzb3VyY2U6MQ=="], "window": {"start": "2031-06-02T00:00:00Z", "end": "2031-06-09T00:00:00Z"}}
BASELINE = "full text (document cache)"


def body_bytes(with_text: bool) -> int:
    body: dict[str, object] = {"variables": VARIABLES, "operationName": "Availability"}
    if with_text:
        body["query"] = DOCUMENT
    else:
        body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": HASH}}
    return len(json.dumps(body, separators=(",", ":")))


async def cpu_per_admission(admission: Admission, request: Request, n: int) -> float:
    """Microseconds of this process's CPU per admission (the Redis server's own time excluded)."""
    tenant = TENANT
    admitted: object = None
    started = time.process_time()
    for _ in range(n):
        admitted = await admission.request(tenant, request)
    elapsed = time.process_time() - started
    assert isinstance(admitted, Admitted), admitted
    return elapsed / n * 1e6


TENANT = uuid4()


async def run(rounds: int, n: int) -> str:
    schema = build_schema()._schema
    client = aioredis.Redis.from_url(URL)
    prefix = f"bench-pq-{secrets.token_hex(3)}"
    store = RedisPersistedQueries(client, prefix, PersistedQueryLimits())
    try:
        await store.register(TENANT, HASH, DOCUMENT)

        def admission(persisted: PersistedDocuments) -> Admission:
            return Admission(DocumentCache(schema, DocumentLimits()), None, persisted)

        by_text = Request(DOCUMENT, VARIABLES, "Availability")
        by_hash = Request("", VARIABLES, "Availability", HASH)
        modes: dict[str, tuple[Admission, Request]] = {
            BASELINE: (admission(AutomaticPersistedQueries(store)), by_text),
            "known hash (LRU of the process)": (admission(AutomaticPersistedQueries(store)), by_hash),
            "hash read from Redis": (admission(AutomaticPersistedQueries(store, lru_size=0)), by_hash),
            "trusted documents, by hash": (admission(TrustedDocuments({HASH: DOCUMENT})), by_hash),
            "trusted documents, by text": (admission(TrustedDocuments({HASH: DOCUMENT})), by_text),
        }
        for each, request in modes.values():  # warm up: parse once, LRU filled, connections open
            await cpu_per_admission(each, request, 200)
        measured: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(rounds):
            for name, (each, request) in modes.items():
                measured[name].append(await cpu_per_admission(each, request, n))
        return report(measured)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def report(measured: dict[str, list[float]]) -> str:
    base = measured[BASELINE]

    def ratio(values: list[float]) -> Callable[[int], float]:
        return lambda i: values[i] / base[i]

    rounds = range(len(base))
    lines = [f"Admitting one {len(DOCUMENT)}-character document, median of {len(base)} interleaved round(s); "
             "ratio = CPU per admission against the full text's, taken within each round", "",
             f"{'mode':34}  {'CPU us/admission':>16}  {'vs full text':>12}  {'request body':>12}"]
    for name, values in measured.items():
        ratios = [ratio(values)(i) for i in rounds]
        with_text = name.endswith(("(document cache)", "by text"))
        lines.append(f"{name:34}  {median(values):16.1f}  {median(ratios):11.2f}x  "
                     f"{body_bytes(with_text):10} B")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    smoke = "--smoke" in args
    print(asyncio.run(run(rounds=1 if smoke else 3, n=500 if smoke else 20_000)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
