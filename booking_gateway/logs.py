"""Logging: readable lines in development, one JSON object per line in production; never a key.

The same configuration is handed to uvicorn (its workers configure logging themselves),
so the server's own lines come out in the same format.

API keys travel in HTTP headers and in WebSocket frames. At DEBUG, the WebSocket library logs
every frame and handshake header it reads, through uvicorn's ``uvicorn.error`` logger (whose
level uvicorn sets itself, after this configuration): :class:`DropProtocolFrames` keeps those
lines out, and the ``websockets`` loggers stay at INFO or above. As defence in depth, the
handler's :class:`RedactKeys` masks anything that looks like a key or a bearer credential in
every line, whoever logged it.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson
import websockets

from booking_gateway.domain.tenancy import KEY_PREFIX

#: Attributes every LogRecord has; anything else on a record was passed with ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}

#: A key (``bgk_`` and the URL-safe characters after it, however many) or a bearer credential
#: (RFC 6750's b64token).
_SECRET = re.compile(rf"({re.escape(KEY_PREFIX)})[A-Za-z0-9_\-]+|(?i:(bearer)\s+)(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*")
#: Where the WebSocket library's code lives: its DEBUG records are frames and handshake headers.
_WEBSOCKETS_DIR = os.path.dirname(websockets.__file__) + os.sep


def redact(text: str) -> str:
    """``text`` with every key and bearer credential replaced by ``***``."""
    if KEY_PREFIX not in text and "earer" not in text.lower():
        return text
    return _SECRET.sub(lambda m: f"{m.group(1) or m.group(2) + ' '}***", text)


class DropProtocolFrames(logging.Filter):
    """Drop the WebSocket library's DEBUG records: frames and headers, connection_init and its key included."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG or not record.pathname.startswith(_WEBSOCKETS_DIR)


class RedactKeys(logging.Filter):
    """Mask keys in a record's message, arguments, exception, stack and extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logged without its arguments
            message, record.args = str(record.msg), None
        clean = redact(message)
        if clean != message or not isinstance(record.msg, str):
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in vars(record).items():
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:  # made (and redacted) by RedactKeys
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(entry, default=str).decode()


def config(level: str, json: bool) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the gateway and uvicorn alike."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if json
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"frames": {"()": f"{__name__}.DropProtocolFrames"}, "keys": {"()": f"{__name__}.RedactKeys"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "default",
                                "stream": "ext://sys.stderr", "filters": ["frames", "keys"]}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            # where uvicorn has the WebSocket library log, frames and headers at DEBUG
            "uvicorn.error": {"level": level, "filters": ["frames"]},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
            # the library's own loggers (its client, used by tests and benchmarks), never frame by frame
            "websockets": {"level": "INFO" if level == "DEBUG" else level},
        },
    }
