"""A small keep-alive HTTP/1.1 load generator, used when wrk is not installed.

It is slower than wrk and shares the CPU with the server, so its numbers are only a
smoke test: the benchmark labels them as such. Scenario bodies mirror ``wrk/*.lua``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

BodyFactory = Callable[[int, int], bytes]  # (connection index, request number) -> JSON body


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {
        "ok": 0, "slot_unavailable": 0, "contended": 0, "other_error": 0, "http_error": 0, "http_5xx": 0})
    socket_errors: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def classify(status: int, body: bytes) -> str:
    if status >= 500:
        return "http_5xx"
    if status != 200:
        return "http_error"
    if b'"SLOT_UNAVAILABLE"' in body:
        return "slot_unavailable"
    if b'"CONTENDED"' in body:
        return "contended"
    if b'"errors"' in body or b'"code"' in body:
        return "other_error"
    return "ok"


async def run_load(url: str, headers: dict[str, str], body: BodyFactory, connections: int,
                   seconds: float) -> LoadResult:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    result = LoadResult()
    deadline = time.monotonic() + seconds

    async def connection(index: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        n = 0
        try:
            while time.monotonic() < deadline:
                n += 1
                payload = body(index, n)
                request = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}"
                           f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
                started = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                answer = await reader.readexactly(length)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.requests += 1
                result.counts[classify(int(status_line.split()[1]), answer)] += 1
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            result.socket_errors += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection(i) for i in range(connections)))
    result.seconds = time.monotonic() - started
    return result
