"""``booking-gateway torture`` end to end, as CI runs it (about three minutes for the three tests).

A short run under every fault keeps the promise; the weakened build (no exclusion constraint, no
range lock) double-books and the checker catches it, as does ``reconcile --prometheus``. Each run
starts its own scratch database (on ``BOOKING_TEST_DATABASE_URL``'s server), its own Valkey and its
own gateways.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from booking_gateway.torture.faults import FAULTS
from booking_gateway.torture.history import read_meta
from tests.conftest import ADMIN_URL, drop_database

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def torture(out: Path, *args: str, timeout: float) -> tuple[int, dict[str, Any], str]:
    """Run the command as an operator would; its exit status, summary and output."""
    done = subprocess.run(
        [sys.executable, "-m", "booking_gateway", "torture", "--out", str(out), "--admin-url", ADMIN_URL,
         "--seed", "7", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    output = done.stdout + done.stderr
    summary_file = out / "summary.json"
    assert summary_file.exists(), output
    return done.returncode, json.loads(summary_file.read_text()), output


def test_a_short_run_under_every_fault_keeps_the_promise(tmp_path: Path) -> None:
    code, summary, output = torture(tmp_path / "run", "--duration", "60", "--gateways", "2", "--faults", "all",
                                    timeout=240)

    assert code == 0, output
    assert summary["violations"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0}, output
    assert summary["operations"]["hold"] > 20, output  # holds raced bookings under the faults
    assert summary["operations"]["confirm"] > 5, output
    assert summary["reconcile_overlaps"] == 0
    assert set(summary["faults"]) == set(FAULTS), output  # every kind of fault was injected
    assert summary["attempts"]["ok"] > 100, output
    assert summary["bookings_while_redis_down"] > 0, output  # degraded mode kept booking
    assert "RESULT: PASS" in output


def test_the_weakened_build_double_books_and_the_checker_and_reconcile_catch_it(tmp_path: Path) -> None:
    out = tmp_path / "weak"
    try:
        code, summary, output = torture(out, "--weaken", "--gateways", "4", "--attempts", "3000",
                                        "--duration", "90", "--faults", "all", "--keep", timeout=240)

        assert code == 0, output  # the counter-proof held: violations were found
        assert summary["violations"]["1"] > 0, output
        # reconcile also counts a confirmed booking over a hold still live at the end
        assert summary["reconcile_overlaps"] >= summary["violations"]["1"]
        assert "counter-proof held" in output
        metrics = reconcile_metrics(scratch_url(out))
        [gauge] = [line for line in metrics.splitlines() if line.startswith("booking_overlapping_pairs ")]
        # holds live at the end of the run may have expired since
        assert summary["violations"]["1"] <= float(gauge.split()[1]) <= summary["reconcile_overlaps"], metrics
    finally:
        drop_scratch(out)


def test_holds_that_block_nothing_are_caught_and_real_ones_are_not(tmp_path: Path) -> None:
    """--weaken-holds stores every hold already expired: bookings then land on holds the clients
    were told are live, and the holds invariant (6) must catch it (the normal run above finds 0)."""
    code, summary, output = torture(tmp_path / "weak-holds", "--weaken-holds", "--duration", "30",
                                    "--faults", "none", timeout=180)

    assert code == 0, output  # the counter-proof held
    assert summary["violations"]["6"] > 0, output
    assert summary["violations"]["1"] == 0, output  # the constraint itself was left whole
    assert "counter-proof held" in output


def test_a_run_with_rules_books_nothing_outside_them(tmp_path: Path) -> None:
    code, summary, output = torture(tmp_path / "rules", "--rules", "--duration", "25", "--gateways", "2",
                                    "--faults", "all", timeout=180)

    assert code == 0, output
    assert summary["violations"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0}, output
    assert summary["rejected"].get("OUTSIDE_SCHEDULE", 0) > 0, output  # the rules did refuse
    assert summary["attempts"]["ok"] > 50, output


def test_the_build_without_the_rules_check_is_caught(tmp_path: Path) -> None:
    code, summary, output = torture(tmp_path / "no-rules", "--weaken-rules", "--duration", "20",
                                    "--gateways", "2", "--faults", "none", timeout=180)

    assert code == 0, output  # the counter-proof held
    assert summary["violations"]["7"] > 0, output
    assert summary["violations"]["1"] == 0, output  # only the rules were weakened
    assert "OUTSIDE_SCHEDULE" not in summary["rejected"], output
    assert "counter-proof held" in output


def scratch_url(out: Path) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{read_meta(out)['database']}"))


def reconcile_metrics(database_url: str) -> str:
    """``booking-gateway reconcile --prometheus`` on the kept scratch database."""
    done = subprocess.run([sys.executable, "-m", "booking_gateway", "reconcile", "--prometheus"],
                          env={**os.environ, "BOOKING_DATABASE_URL": database_url,
                               "BOOKING_REDIS_URL": "redis://127.0.0.1:1/0"},  # never contacted
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def drop_scratch(out: Path) -> None:
    if (out / "history.jsonl").exists() and (name := read_meta(out).get("database")):
        asyncio.run(drop_database(name))
