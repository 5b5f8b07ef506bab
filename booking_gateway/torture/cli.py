"""``booking-gateway torture [options]`` and ``booking-gateway torture check DIR``.

Exit status: 0 when the proof held (normal build: zero violations; ``--weaken``: the checker
caught the weakened build's double bookings; ``--weaken-rules``: it caught bookings outside the
rules), 1 when it did not, 2 on a usage or set-up error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from booking_gateway.infra.postgres.engine import redact
from booking_gateway.torture.checker import check
from booking_gateway.torture.config import DEFAULT_ADMIN_URL, Config
from booking_gateway.torture.faults import FAULTS
from booking_gateway.torture.history import read_history, read_meta
from booking_gateway.torture.report import Summary, render, summarize

if TYPE_CHECKING:
    from booking_gateway.torture.runner import RunResult

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.txt"


def _faults(value: str) -> tuple[str, ...]:
    if value in ("all", ""):
        return FAULTS
    if value == "none":
        return ()
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    return names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="booking-gateway torture",
        description="Race gateway processes under injected faults, record what every client was told, "
                    "and check DESIGN.md's invariants on that history and the final database. "
                    "'booking-gateway torture check DIR' re-checks a saved run.",
    )
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds of workload, 0 for no limit (default %(default)s)")
    p.add_argument("--attempts", type=int, default=0,
                   help="stop after this many attempts, 0 for no limit (default %(default)s)")
    p.add_argument("--gateways", type=int, default=2, help="gateway processes (default %(default)s)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default %(default)s)")
    p.add_argument("--resources", type=int, default=3,
                   help="hot resources everybody books (default %(default)s)")
    p.add_argument("--faults", type=_faults, default="all",
                   help=f"comma-separated list of {', '.join(FAULTS)}; or 'all' (default) or 'none'")
    p.add_argument("--fault-interval", type=float, default=3.0,
                   help="seconds between fault starts (default %(default)s)")
    p.add_argument("--lock-ttl-ms", type=int, default=1000,
                   help="BOOKING_LOCK_TTL_MS of the gateways; a pause lasts 3 TTLs (default %(default)s)")
    p.add_argument("--lock-wait-ms", type=int, default=1000,
                   help="BOOKING_LOCK_WAIT_MS of the gateways (default %(default)s)")
    p.add_argument("--request-timeout", type=float, default=2.5,
                   help="client timeout per attempt, seconds (default %(default)s)")
    p.add_argument("--double-click", type=float, default=0.15,
                   help="probability that an attempt is sent twice at once (default %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the clock)")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory for the history, logs and report (default ./torture-<time>)")
    admin_url = os.environ.get("BOOKING_TORTURE_ADMIN_URL", DEFAULT_ADMIN_URL)
    p.add_argument("--admin-url", default=admin_url,
                   help="PostgreSQL server to create the scratch database on "
                        f"(env BOOKING_TORTURE_ADMIN_URL, default {redact(admin_url)})")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--rules", action="store_true",
                   help="set the run's rules (opening hours, a buffer, a maximum duration) on every "
                        "resource and check that nothing is booked outside them (invariant 7)")
    p.add_argument("--weaken-rules", action="store_true",
                   help="counter-proof of invariant 7: --rules, with the gateways run with "
                        "BOOKING_UNSAFE_NO_RULES=1; succeeds only if the checker finds bookings outside the rules")
    p.add_argument("--weaken", action="store_true",
                   help="counter-proof: drop the exclusion constraint and run the gateways with "
                        "BOOKING_UNSAFE_NO_LOCK=1; succeeds only if the checker finds double bookings")
    p.add_argument("--weaken-holds", action="store_true",
                   help="counter-proof for holds: every hold is stored already expired, so holds "
                        "block nothing; succeeds only if the checker finds holds invariant (6) violations")
    return p


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        return check_main(argv[1:])
    args = parser().parse_args(argv)
    if args.gateways < 1 or args.clients < 1 or args.resources < 1:
        print("error: --gateways, --clients and --resources must be at least 1", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time())
    config = Config(
        out=args.out or Path(f"torture-{time.strftime('%Y%m%d-%H%M%S')}"), admin_url=args.admin_url,
        duration_s=args.duration, max_attempts=args.attempts, gateways=args.gateways, clients=args.clients,
        resources=args.resources, faults=args.faults, fault_interval_s=args.fault_interval,
        lock_ttl_ms=args.lock_ttl_ms, lock_wait_ms=args.lock_wait_ms, request_timeout_s=args.request_timeout,
        double_click=args.double_click, seed=seed, keep=args.keep, weaken=args.weaken,
        weaken_holds=args.weaken_holds, rules=args.rules, weaken_rules=args.weaken_rules)
    return _run(config)


def _echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run(config: Config) -> int:
    try:
        result = asyncio.run(_interruptible(config))
    except (KeyboardInterrupt, asyncio.CancelledError):
        _echo("interrupted: every process the run started was stopped"
              + ("" if config.keep else ", the scratch database dropped"))
        return 130
    except (OSError, RuntimeError) as err:
        _echo(f"error: {err}")
        return 2
    summary = summarize(result.history, result.check, header=_header(config, result.elapsed_s),
                        reconcile_overlaps=result.reconcile_overlaps, weakened=config.weaken,
                        weakened_holds=config.weaken_holds, weakened_rules=config.weaken_rules)
    return _finish(summary, config.out)


async def _interruptible(config: Config) -> RunResult:
    """The run, cancelled by SIGINT or SIGTERM (once: a second signal does not cut the clean-up
    short), so that its exit stack stops every process it started."""
    from booking_gateway.torture.runner import run

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    signals = (signal.SIGINT, signal.SIGTERM)

    def interrupt() -> None:
        for sig in signals:
            loop.add_signal_handler(sig, _echo, "still cleaning up, please wait")
        _echo("interrupted: stopping the run's processes")
        task.cancel()

    for sig in signals:
        loop.add_signal_handler(sig, interrupt)
    try:
        return await run(config, _echo)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def _header(config: Config, elapsed_s: float) -> str:
    faults = ", ".join(config.faults) or "none"
    build = ("WEAKENED build (no constraint, no lock)" if config.weaken
             else "WEAKENED holds (stored expired)" if config.weaken_holds else "normal build")
    if config.weaken_rules:
        build += ", WITHOUT the rules check"
    elif config.rules:
        build += ", with rules"
    return (f"booking-gateway torture: {build}, {elapsed_s:.0f} s, {config.gateways} gateways, "
            f"{config.clients} clients, {config.resources} resources, lock TTL {config.lock_ttl_ms} ms, "
            f"seed {config.seed}\nfaults: {faults} (one every {config.fault_interval_s:g} s)")


def _finish(summary: Summary, out: Path | None) -> int:
    """Print the table (and save it with the run, unless re-checking); the exit status."""
    table = render(summary)
    print(table, flush=True)
    if out is not None:
        (out / REPORT_FILE).write_text(table + "\n")
        (out / SUMMARY_FILE).write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    return 0 if summary.proof_held else 1


def check_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="booking-gateway torture check",
                                description="Check a saved run again (history.jsonl + final-state.jsonl).")
    p.add_argument("directory", type=Path)
    args = p.parse_args(argv)
    try:
        history = read_history(args.directory)
        meta = read_meta(args.directory)
    except (OSError, ValueError, KeyError) as err:
        print(f"error: cannot read the run in {args.directory}: {err}", file=sys.stderr)
        return 2
    weakened = bool(meta.get("config", {}).get("weaken"))
    weakened_holds = bool(meta.get("config", {}).get("weaken_holds"))
    summary = summarize(history, check(history), header=f"booking-gateway torture check {args.directory}",
                        reconcile_overlaps=None, weakened=weakened, weakened_holds=weakened_holds,
                        weakened_rules=bool(meta.get("config", {}).get("weaken_rules")))
    return _finish(summary, None)
