"""The log never holds a key: protocol frames are dropped, anything key-like is masked."""

from __future__ import annotations

import io
import logging
import secrets

import orjson
from websockets.server import ServerProtocol

from booking_gateway import logs
from booking_gateway.domain.tenancy import new_secret


def logger_to(stream: io.StringIO, formatter: logging.Formatter | None = None) -> logging.Logger:
    """A fresh logger with the gateway's handler filters, writing to ``stream``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(logs.DropProtocolFrames())
    handler.addFilter(logs.RedactKeys())
    log = logging.getLogger(f"test.redaction.{secrets.token_hex(4)}")
    log.handlers, log.propagate = [handler], False
    log.setLevel(logging.DEBUG)
    return log


def pieces(key: str) -> list[str]:
    """Every 8 characters of the key after its prefix: none may be logged."""
    tail = key.removeprefix("bgk_")
    return [tail[i:i + 8] for i in range(len(tail) - 7)]


def test_keys_and_bearer_credentials_are_masked_wherever_they_are() -> None:
    key = new_secret()
    assert logs.redact(f"Authorization: Bearer {key}") == "Authorization: Bearer ***"
    assert logs.redact(f'{{"authorization":"bearer {key}"}}') == '{"authorization":"bearer ***"}'
    assert logs.redact(f"no such key {key[:20]}, sorry") == "no such key bgk_***, sorry"
    assert logs.redact("Authorization: Bearer not-even-a-key; next") == "Authorization: Bearer ***; next"
    assert logs.redact("nothing secret here") == "nothing secret here"


def test_the_websocket_librarys_frames_and_headers_are_dropped_at_debug() -> None:
    key, stream = new_secret(), io.StringIO()
    log = logger_to(stream)
    server = ServerProtocol(logger=log)  # uvicorn hands it the "uvicorn.error" logger the same way
    server.receive_data((
        "GET /graphql HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {key}\r\n\r\n").encode())
    [request] = server.events_received()
    server.send_response(server.accept(request))  # type: ignore[arg-type]
    log.info("the server's own line")
    assert stream.getvalue().splitlines() == [f"INFO {log.name}: connection open",  # the library's INFO stays
                                              f"INFO {log.name}: the server's own line"]


def test_messages_arguments_exceptions_and_extra_fields_are_masked_in_json_lines() -> None:
    key, stream = new_secret(), io.StringIO()
    log = logger_to(stream, logs.JsonFormatter())
    try:
        raise ValueError(f"bad token {key}")
    except ValueError:
        log.exception("refused %s (%s)", key, f"Bearer {key}", extra={"header": f"Bearer {key}"})
    log.warning("half a key: %s", key[:24])
    line, half = (orjson.loads(text) for text in stream.getvalue().splitlines())
    assert line["message"] == "refused bgk_*** (Bearer ***)"
    assert line["header"] == "Bearer ***"
    assert "ValueError: bad token bgk_***" in line["exception"]
    assert half["message"] == "half a key: bgk_***"
    assert not [piece for piece in pieces(key) if piece in stream.getvalue()]


def test_the_configuration_filters_every_line_and_keeps_protocol_loggers_off_debug() -> None:
    config = logs.config("DEBUG", json=False)
    assert config["handlers"]["stderr"]["filters"] == ["frames", "keys"]
    assert config["loggers"]["uvicorn.error"]["filters"] == ["frames"]
    assert config["loggers"]["websockets"]["level"] == "INFO"
    assert logs.config("WARNING", json=True)["loggers"]["websockets"]["level"] == "WARNING"
