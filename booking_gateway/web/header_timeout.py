"""A time limit on receiving a request's headers (``BOOKING_HTTP_HEADER_TIMEOUT_MS``), in uvicorn.

uvicorn closes idle keep-alive connections, but nothing bounds the time a client takes to send
a request's headers: one that connects and sends nothing, or drips a header byte at a time
(slowloris), holds a connection and its buffers for as long as it likes. The application only
sees a request once its headers are complete, so the limit has to live in the server's HTTP
protocol: these subclasses of uvicorn's two HTTP/1.1 protocols start a timer when a connection
is made and when a request begins, stop it when the headers are complete, and close the
connection when it fires (with HTTP 408 if part of a request had arrived).

They rely on uvicorn's internals (the protocols' ``loop``, ``transport``, ``cycle`` and ``conn``
attributes, httptools' parser callbacks, the ``on_response_complete`` hook), which is why
pyproject.toml bounds uvicorn's version; tests/e2e/test_slow_clients.py checks them against
the pinned one.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # uvicorn[standard] brings httptools

from booking_gateway.web.errors import error_body


class _HeaderTimeout:
    """The timer; a protocol class mixes it in before uvicorn's class."""

    #: Seconds; None reads BOOKING_HTTP_HEADER_TIMEOUT_MS once per process (workers are spawned
    #: processes that import this module afresh, so a value set by the parent would be lost).
    header_timeout_s: ClassVar[float | None] = None

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _header_timer: asyncio.TimerHandle | None = None

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(_timeout_s(type(self)), self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _request_begun(self) -> bool:
        """Whether part of a request (not only the connection) has arrived."""
        raise NotImplementedError

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._request_begun():
            seconds = _timeout_s(type(self))
            body = error_body(408, f"the request headers did not arrive within {seconds:g} s "
                                   "(limit BOOKING_HTTP_HEADER_TIMEOUT_MS)")
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                                 b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
        self.transport.close()


def _timeout_s(cls: type[_HeaderTimeout]) -> float:
    if cls.header_timeout_s is None:
        from booking_gateway.infra.settings import load_settings

        cls.header_timeout_s = load_settings().http_header_timeout_ms / 1000
    return cls.header_timeout_s


class H11HeaderTimeout(_HeaderTimeout, H11Protocol):
    """h11's protocol: headers are complete once h11 has left the IDLE state for their side."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # the first bytes of a request
            self._start_header_timer()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start on a pipelined request's buffered bytes
        if self.conn.their_state is not h11.IDLE:
            self._stop_header_timer()
        elif self.conn.trailing_data[0]:
            self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _request_begun(self) -> bool:
        return self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])


class HttpToolsHeaderTimeout(_HeaderTimeout, HttpToolsProtocol):
    """httptools' protocol: its parser calls back when a message begins and when its headers end."""

    _in_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:  # between requests: one begins
            self._start_header_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._start_header_timer()  # a pipelined request, while the one before it runs

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._stop_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _request_begun(self) -> bool:
        return self._in_headers


def protocol_class() -> type[asyncio.Protocol]:
    """What ``uvicorn.run(http=...)`` uses: httptools' protocol (uvicorn's own choice when
    httptools is installed, as uvicorn[standard] has it), with the header time limit."""
    return HttpToolsHeaderTimeout
