"""The benchmark suite: anchors and the gateway side by side, in one run, with ratios.

    python -m benchmarks.run                 # ~3 minutes: every scenario, 10 s each
    python -m benchmarks.run --seconds 3     # quicker, noisier
    python -m benchmarks.run --smoke         # seconds: proves the harness works (used by the tests)
    python -m benchmarks.run --persisted-queries   # persisted documents vs full text, in process
    python -m benchmarks.run --fastpath-vs-stock [--smoke]   # BOOKING_FAST_PATH on vs off (benchmarks/fastpath.py)

After the scenarios it runs :mod:`benchmarks.http_transport` (GET vs POST, the two media types)
against the same gateway.

Needs the PostgreSQL and Redis of the test suite (BOOKING_TEST_DATABASE_URL, BOOKING_TEST_REDIS_URL)
and, for numbers worth quoting, wrk (``apt-get install wrk``); without wrk a Python load generator
stands in and the table says so. Each run creates its own database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil

from benchmarks import holds, http_transport, scenarios
from benchmarks.loadgen import run_load
from booking_gateway.infra.postgres import scratch

ROOT = Path(__file__).resolve().parents[1]
WRK_DIR = Path(__file__).parent / "wrk"
ADMIN_URL = os.environ.get("BOOKING_BENCH_ADMIN_URL", os.environ.get(
    "BOOKING_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
REDIS_URL = os.environ.get("BOOKING_BENCH_REDIS_URL", os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    counts: dict[str, int] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def decisions(self) -> int:
        return self.counts.get("ok", 0) + self.counts.get("slot_unavailable", 0)

    @property
    def decisions_rate(self) -> float:
        return self.decisions / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def server(args: list[str], env: dict[str, str], port: int, health: str) -> Iterator[subprocess.Popen[bytes]]:
    out = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[2:5]} exited: {Path(out.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args} did not start: {Path(out.name).read_text()[-2000:]}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        Path(out.name).unlink(missing_ok=True)


def uvicorn(app: str, port: int, workers: int = 2) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log"]


def gateway(port: int, workers: int = 2) -> list[str]:
    return [sys.executable, "-m", "booking_gateway", "serve", "--port", str(port), "--workers", str(workers)]


class Load:
    """wrk when installed (the numbers worth quoting), else the Python stand-in."""

    def __init__(self, seconds: float, connections: int, force_python: bool = False) -> None:
        self.seconds = seconds
        self.connections = connections
        self.wrk = None if force_python else shutil.which("wrk")

    @property
    def label(self) -> str:
        return "wrk" if self.wrk else "python loadgen (smoke only: not the load generator to quote)"

    def run(self, name: str, url: str, scenario: str, env: dict[str, str], connections: int | None = None,
            warmup: float = 1.0,
            procs: Callable[[], dict[str, list[psutil.Process]]] | None = None) -> Result:
        conns = connections or self.connections
        if warmup:
            self._run(url, scenario, {**env, "BASE_EPOCH": str(int(env.get("BASE_EPOCH", "0")) - 10**7)},
                      conns, warmup)
        watched = procs() if procs else {}
        before = _cpu(watched)
        result = self._run(url, scenario, env, conns, self.seconds)
        after = _cpu(watched)
        result.name = name
        result.cpu_ms = {k: v * 1000 for k, v in _cpu_spent(before, after).items()}
        log(f"{name}: {result.rate:,.0f}/s p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms {result.counts}")
        return result

    def _run(self, url: str, scenario: str, env: dict[str, str], connections: int, seconds: float) -> Result:
        if self.wrk:
            out = subprocess.run(
                [self.wrk, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                 "-s", str(WRK_DIR / f"{scenario}.lua"), url],
                env={**os.environ, **env, "WRK_DIR": str(WRK_DIR)}, capture_output=True, text=True, check=True)
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            data = json.loads(line[len("RESULT "):])
            counts = {k: data[k] for k in ("ok", "slot_unavailable", "contended", "other_error", "http_error",
                                            "http_5xx")}
            counts["socket_errors"] = data["socket_errors"]
            return Result(scenario, data["requests"], data["seconds"], data["p50_ms"], data["p99_ms"], counts)
        body = scenarios.factory(scenario, env)
        headers = {"Content-Type": "application/json"}
        if env.get("API_KEY"):
            headers["Authorization"] = f"Bearer {env['API_KEY']}"
        loaded = asyncio.run(run_load(url, headers, body, connections, seconds))
        return Result(scenario, loaded.requests, loaded.seconds, loaded.percentile(50), loaded.percentile(99),
                      {**loaded.counts, "socket_errors": loaded.socket_errors})


def _cpu(procs: dict[str, list[psutil.Process]]) -> dict[str, dict[int, float]]:
    """CPU seconds so far, per process of each group (a process that exits drops out)."""
    seen: dict[str, dict[int, float]] = {}
    for name, group in procs.items():
        seen[name] = {}
        for p in group:
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            seen[name][p.pid] = t.user + t.system
    return seen


def _cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in after.items()}


def processes(gateway_process: subprocess.Popen[bytes]) -> dict[str, list[psutil.Process]]:
    parent = psutil.Process(gateway_process.pid)
    by_name: dict[str, list[psutil.Process]] = {"gateway": [parent, *parent.children(recursive=True)],
                                                "postgres": [], "redis": []}
    for p in psutil.process_iter(["name"]):
        name = p.info["name"] or ""
        if name.startswith("postgres"):
            by_name["postgres"].append(p)
        elif name.startswith(("redis-server", "valkey-server")):
            by_name["redis"].append(p)
    return by_name


# --- setup ------------------------------------------------------------------------------------

async def create_database() -> tuple[str, str]:
    name = await scratch.create_database(ADMIN_URL, "bg_bench")
    return name, scratch.database_url(ADMIN_URL, name)


async def drop_database(name: str) -> None:
    await scratch.drop_database(ADMIN_URL, name)


def cli(*args: str, env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-m", "booking_gateway", *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=True, cwd=ROOT).stdout


def seed(url: str, key: str, base: int, resources: int) -> dict[str, str]:
    """Resources for the scenarios, made through the gateway's own API."""
    headers = {"Authorization": f"Bearer {key}"}
    create = "mutation($i: CreateResourceInput!) { createResource(input: $i) { resource { id } } }"
    book = "mutation($i: BookSlotInput!) { bookSlot(input: $i) { booking { id } } }"
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        def resource(name: str) -> str:
            data = client.post("/graphql", json={"query": create, "variables": {
                "i": {"clientMutationId": f"seed-{name}", "name": name}}}).json()
            return str(data["data"]["createResource"]["resource"]["id"])

        ids = [resource(f"room {i}") for i in range(resources)]
        week = resource("week room")
        for i in range(60):  # a busy week: 60 bookings of 45 minutes
            start = base + i * 10080
            client.post("/graphql", json={"query": book, "variables": {"i": {
                "clientMutationId": f"seed-week-{i}", "resourceId": week,
                "start": scenarios.iso(start), "end": scenarios.iso(start + 2700)}}})
        hot = resource("hot room")
        hot_no_lock = resource("hot room, constraint alone")
    ids_file = Path(tempfile.mkstemp(prefix="bench-ids-", suffix=".txt")[1])
    ids_file.write_text("\n".join(ids) + "\n")
    return {"IDS_FILE": str(ids_file), "WEEK_RESOURCE": week, "HOT_RESOURCE": hot, "HOT_NO_LOCK": hot_no_lock}


PG_ANCHOR_SCHEMA = """
    CREATE EXTENSION IF NOT EXISTS btree_gist;
    CREATE TABLE bench_excl (id bigserial PRIMARY KEY, resource_id int NOT NULL, during tstzrange NOT NULL,
                             EXCLUDE USING gist (resource_id WITH =, during WITH &&));
    CREATE SEQUENCE bench_slot"""

INSERT_SQL = ("WITH n AS (SELECT nextval('bench_slot') AS v) INSERT INTO bench_excl (resource_id, during) "
              "SELECT (v % 100)::int, tstzrange(to_timestamp(v * 60), to_timestamp(v * 60 + 30)) FROM n")


async def _execute(db_url: str, sql: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_insert_anchor(db_url: str, seconds: float, clients: int) -> Result:
    """PostgreSQL's own rate of inserts into an exclusion-constrained table (pgbench, or asyncpg)."""
    pgbench = shutil.which("pgbench")
    if not pgbench:
        return asyncio.run(_asyncpg_inserts(db_url, seconds, clients))
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(INSERT_SQL + ";\n")
        script.flush()
        parts = urlsplit(db_url)
        out = subprocess.run([pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T",
                              str(max(1, round(seconds))), "-f", script.name, "-h", parts.hostname or "127.0.0.1",
                              "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
                              parts.path.lstrip("/")], capture_output=True, text=True, check=True)
    tps = next(float(x.split("=")[1].split()[0]) for x in out.stdout.splitlines() if x.startswith("tps"))
    latency = next((float(x.split("=")[1].split()[0]) for x in out.stdout.splitlines()
                    if x.startswith("latency average")), 0.0)
    return Result("postgres inserts (pgbench)", round(tps * seconds), seconds, latency, 0.0)


async def _asyncpg_inserts(db_url: str, seconds: float, clients: int) -> Result:
    pool = await asyncpg.create_pool(db_url, min_size=clients, max_size=clients)
    done = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        async with pool.acquire() as c:
            while time.monotonic() < deadline:
                await c.execute(INSERT_SQL)
                done += 1

    await asyncio.gather(*(worker() for _ in range(clients)))
    await pool.close()
    return Result("postgres inserts (asyncpg)", done, seconds, 0.0, 0.0)


async def overlap_count(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM bookings a JOIN bookings b ON a.resource_id = b.resource_id AND a.id < b.id "
            "AND a.during && b.during WHERE a.status = 'confirmed' AND b.status = 'confirmed'"))
    finally:
        await conn.close()


# --- the run ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measured run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gateway and anchor worker processes")
    parser.add_argument("--smoke", action="store_true", help="1-second runs, Python load generator")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure everything this many times, interleaved, and report the median ratio "
                             "(the machine's speed drifts between minutes; a ratio within one round does not)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--persisted-queries", action="store_true",
                        help="only the persisted-documents benchmark (benchmarks/persisted_queries.py)")
    parser.add_argument("--fastpath-vs-stock", action="store_true",
                        help="only the fast path against Strawberry's own view (benchmarks/fastpath.py)")
    parser.add_argument("--bookable-slots", action="store_true",
                        help="run benchmarks/bookable_slots.py instead (bookableSlots p50/p99 next to the anchor)")
    args = parser.parse_args(argv)
    if args.persisted_queries:
        from benchmarks import persisted_queries
        return persisted_queries.main(["--smoke"] if args.smoke else [])
    if args.fastpath_vs_stock:
        from benchmarks import fastpath  # a late import: it imports this module

        return fastpath.main(["--smoke"] if args.smoke else [])
    if args.bookable_slots:
        from benchmarks import bookable_slots

        return bookable_slots.main(["--requests", "30"] if args.smoke else [])
    if args.smoke:
        args.seconds, args.rounds = 1.0, 1
    load = Load(args.seconds, args.connections, force_python=args.smoke)
    log(f"load generator: {load.label}; {args.seconds:g} s per run, {args.connections} connections")

    rounds: list[dict[str, Result]] = []
    name, db_url = asyncio.run(create_database())
    try:
        with ExitStack() as servers:
            anchors = {}
            for label, app in (("strawberry hello, stock", "benchmarks.anchors.hello:stock"),
                               ("strawberry hello, cached", "benchmarks.anchors.hello:cached")):
                port = free_port()
                servers.enter_context(server(uvicorn(app, port, args.workers), {}, port, "/"))
                anchors[label] = f"http://127.0.0.1:{port}/"
            asyncio.run(_execute(db_url, PG_ANCHOR_SCHEMA))

            env = {"BOOKING_DATABASE_URL": db_url, "BOOKING_REDIS_URL": REDIS_URL, "BOOKING_LOG_LEVEL": "WARNING",
                   "BOOKING_REDIS_PREFIX": f"bench-{secrets.token_hex(3)}", "BOOKING_ENV": "production",
                   "BOOKING_RATE_LIMIT_PER_S": "0"}  # the benchmark is one tenant at full speed
            cli("migrate", env=env)
            key = cli("tenant", "create", "bench", env=env).strip().splitlines()[-1].split()[-1]
            base = int(time.time()) // 86400 * 86400 + 30 * 86400
            port = free_port()
            url = f"http://127.0.0.1:{port}/graphql"
            gw = servers.enter_context(server(gateway(port, args.workers), env, port, "/healthz"))
            data = seed(f"http://127.0.0.1:{port}", key, base, 100)
            unsafe_port = free_port()
            unsafe_url = f"http://127.0.0.1:{unsafe_port}/graphql"
            unsafe = {**env, "BOOKING_UNSAFE_NO_LOCK": "1", "BOOKING_ENV": "development"}
            unsafe_gw = servers.enter_context(server(gateway(unsafe_port, args.workers), unsafe, unsafe_port,
                                                     "/healthz"))
            procs, unsafe_procs = partial(processes, gw), partial(processes, unsafe_gw)
            common = {"API_KEY": key, "BASE_EPOCH": str(base), **data}

            for n in range(args.rounds):
                if args.rounds > 1:
                    log(f"round {n + 1} of {args.rounds}")
                fresh = n * 1000 * 86400  # every round books windows of its own
                results: dict[str, Result] = {}
                # Each anchor runs next to what is compared with it, and the stock hello-world
                # twice, before and after the runs compared with it (their mean is the anchor):
                # the machine's speed drifts within a round too.
                results["strawberry hello, cached"] = load.run("strawberry hello, cached",
                                                              anchors["strawberry hello, cached"], "hello", {})
                results["typename"] = load.run("gateway { __typename }", url, "typename", common)
                results[STOCK_BEFORE] = load.run(STOCK_BEFORE, anchors["strawberry hello, stock"], "hello", {})
                results["book"] = load.run("bookSlot uncontended", url, "book_uncontended",
                                           {**common, "BASE_EPOCH": str(base + 3650 * 86400 + fresh)}, procs=procs)
                results["hot"] = load.run("bookSlot hot resource", url, "book_hot",
                                          {**common, "BASE_EPOCH": str(base + 20 * 365 * 86400 + fresh)}, procs=procs)
                results["week"] = load.run("availability, 1 week", url, "availability_week", common, warmup=1.0)
                results[STOCK_AFTER] = load.run(STOCK_AFTER, anchors["strawberry hello, stock"], "hello", {})
                results["hot_no_lock"] = load.run(
                    "bookSlot hot, no Redis lock", unsafe_url, "book_hot",
                    {**common, "HOT_RESOURCE": data["HOT_NO_LOCK"],
                     "BASE_EPOCH": str(base + 40 * 365 * 86400 + fresh)}, procs=unsafe_procs)
                results["postgres"] = pg_insert_anchor(db_url, args.seconds, 16)
                log(f"postgres inserts: {results['postgres'].rate:,.0f}/s")
                rounds.append(results)
            transport = http_transport.measure(url, key, gw.pid, seconds=min(args.seconds, 3.0),
                                               rounds=args.rounds, log=log)
        log("holds, in-process (benchmarks/holds.py)")
        hold_rows = asyncio.run(holds.measure(db_url, REDIS_URL, args.seconds))
        overlaps = asyncio.run(overlap_count(db_url))
        Path(data["IDS_FILE"]).unlink(missing_ok=True)
    finally:
        asyncio.run(drop_database(name))

    print(report(rounds, overlaps, load.label))
    print()
    print(transport)
    print(holds.report(hold_rows))
    if args.json:
        args.json.write_text(json.dumps({"rounds": [{k: vars(v) for k, v in r.items()} for r in rounds],
                                         "overlaps": overlaps}, indent=2))
    return 0


def report(rounds: list[dict[str, Result]], overlaps: int, generator: str) -> str:
    """The table (each scenario's median round) and the targets (the median of each round's ratio)."""
    def ratio(f: Callable[[dict[str, Result]], float]) -> tuple[float, list[float]]:
        values = [f(r) for r in rounds]
        return median(values), values

    def typical(key: str) -> Result:  # the round whose rate is the median
        return sorted((r[key] for r in rounds), key=lambda x: x.rate)[(len(rounds) - 1) // 2]

    stock = ratio(stock_rate)[0]
    cached = ratio(lambda r: r["strawberry hello, cached"].rate)[0]
    rows = []
    for key in rounds[0]:
        v = typical(key)
        vs_stock = ratio(partial(_vs_stock, key))[0]
        vs_cached = ratio(partial(_vs_cached, key))[0]
        rows.append((v.name, f"{v.rate:,.0f}", f"{v.p50_ms:.1f}", f"{v.p99_ms:.1f}", f"{vs_stock:.2f}x",
                     f"{vs_cached:.2f}x", ", ".join(f"{k} {n}" for k, n in v.counts.items() if n)))
    widths = [max(len(str(row[i])) for row in [*rows, HEADER]) for i in range(len(HEADER))]
    each = "the median round of each scenario" if len(rounds) > 1 else "one round"
    lines = [f"Load generator: {generator}; {len(rounds)} round(s), {each}; anchors: stock {stock:,.0f}/s "
             f"(the mean of its runs before and after the gateway's), cached {cached:,.0f}/s", "",
             "  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    hot, nolock, book = typical("hot"), typical("hot_no_lock"), typical("book")
    p99 = ratio(lambda r: r["hot"].p99_ms)
    bookings = max(1, book.counts.get("ok", 0))
    heading = ("Targets (ratios from this run):" if len(rounds) == 1 else
               f"Targets (the median of {len(rounds)} rounds' ratios; each ratio is taken within one round):")
    lines += ["", heading,
              _target("authenticated { __typename } vs cached hello",
                      ratio(lambda r: r["typename"].rate / r["strawberry hello, cached"].rate), 1.0),
              _target("bookSlot/s uncontended vs stock hello",
                      ratio(lambda r: r["book"].rate / stock_rate(r)), 0.75),
              _target("hot decisions/s vs uncontended bookings/s",
                      ratio(lambda r: r["hot"].decisions_rate / r["book"].rate), 1.0),
              f"  hot resource p99: {p99[0]:.1f} ms{_each(p99[1], ' ms')} (target < 100 ms) "
              f"{'MET' if p99[0] < 100 else 'NOT MET'}; without the lock: p99 {nolock.p99_ms:.1f} ms, "
              f"{nolock.decisions_rate:,.0f} decisions/s",
              _target("1-week availability/s vs stock hello",
                      ratio(lambda r: r["week"].rate / stock_rate(r)), 1.0),
              "  bookings/s as a fraction of PostgreSQL's own insert rate: "
              f"{ratio(lambda r: r['book'].rate / r['postgres'].rate)[0]:.2f}",
              "  CPU per booking: " + ", ".join(f"{k} {v / bookings:.2f} ms" for k, v in book.cpu_ms.items()),
              *(f"  CPU per decision, {label}: " + ", ".join(f"{k} {v / max(1, x.decisions):.2f} ms"
                                                             for k, v in x.cpu_ms.items())
                for label, x in (("hot", hot), ("hot without the lock", nolock)) if x.cpu_ms),
              f"  5xx answers: {sum(v.counts.get('http_5xx', 0) for r in rounds for v in r.values())}; "
              f"overlapping confirmed bookings afterwards: {overlaps}"]
    return "\n".join(lines)


STOCK_BEFORE = "strawberry hello, stock"
STOCK_AFTER = "strawberry hello, stock, again"


def _vs_stock(key: str, results: dict[str, Result]) -> float:
    return results[key].rate / stock_rate(results)


def _vs_cached(key: str, results: dict[str, Result]) -> float:
    return results[key].rate / results["strawberry hello, cached"].rate


def stock_rate(results: dict[str, Result]) -> float:
    """The stock anchor of a round: the mean of its runs before and after the gateway's."""
    runs = [results[k].rate for k in (STOCK_BEFORE, STOCK_AFTER) if k in results]
    return sum(runs) / len(runs)


HEADER = ("scenario", "req/s", "p50 ms", "p99 ms", "vs stock", "vs cached", "answers")


def _each(values: list[float], unit: str = "x") -> str:
    return f" (rounds: {', '.join(f'{v:.2f}' if unit == 'x' else f'{v:.1f}' for v in values)})" \
        if len(values) > 1 else ""


def _target(label: str, ratio: tuple[float, list[float]], target: float) -> str:
    value, values = ratio
    return (f"  {label}: {value:.2f}x{_each(values)} (target >= {target:.2f}x) "
            f"{'MET' if value >= target else 'NOT MET'}")


if __name__ == "__main__":
    raise SystemExit(main())
