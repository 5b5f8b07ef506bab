"""The benchmark harness runs end to end (1-second runs; the numbers are not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_suite_runs_and_prints_the_table_and_targets() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    for row in ("strawberry hello, stock", "strawberry hello, cached", "postgres inserts", "gateway { __typename }",
                "bookSlot uncontended", "bookSlot hot resource", "availability, 1 week", "bookSlot hot, no Redis lock"):
        assert row in out.stdout, row
    assert "Targets (ratios from this run):" in out.stdout
    assert "HTTP transport (1 round(s); ratios vs POST, application/json" in out.stdout
    for variant in ("GET, application/json", "GET, graphql-response+json", "POST, graphql-response+json"):
        assert variant in out.stdout, variant
    assert "overlapping confirmed bookings afterwards: 0" in out.stdout
    for row in ("holdSlot", "confirmBooking (live hold)", "bookSlot over an expired hold"):
        assert row in out.stdout, row


def test_the_persisted_queries_benchmark_runs_and_prints_every_mode_against_full_text() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--persisted-queries", "--smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    for row in ("full text (document cache)", "known hash (LRU of the process)", "hash read from Redis",
                "trusted documents, by hash", "trusted documents, by text"):
        assert row in out.stdout, row
    assert "1.00x" in out.stdout  # the baseline's own row


def test_bookable_slots_benchmark_runs_and_says_whether_the_target_is_met() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--bookable-slots", "--smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "gateway bookableSlots:" in out.stdout
    assert "stock strawberry hello:" in out.stdout
    assert "target p99 < 50 ms: " in out.stdout
