"""``reconcile`` as a metric: the overlap count in Prometheus' text format, printed or pushed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from booking_gateway.infra.postgres.reconcile import prometheus_text, push_overlaps


def test_the_count_and_the_time_of_the_run_are_gauges() -> None:
    text = prometheus_text(3, now=1_700_000_000)

    assert "# TYPE booking_overlapping_pairs gauge\nbooking_overlapping_pairs 3.0\n" in text
    assert "booking_reconcile_last_run_timestamp_seconds 1.7e+09" in text


RECEIVED: list[tuple[str, str, bytes]] = []


class _Pushgateway(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        RECEIVED.append(("PUT", self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pushgateway() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Pushgateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_metrics_are_pushed_under_the_reconcile_job(pushgateway: str) -> None:
    RECEIVED.clear()

    push_overlaps(pushgateway, 0)

    ((method, path, body),) = RECEIVED
    assert (method, path) == ("PUT", "/metrics/job/booking-gateway-reconcile")
    assert b"booking_overlapping_pairs 0.0" in body
