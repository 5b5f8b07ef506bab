"""Every setting, read from ``BOOKING_*`` environment variables through one object tests can replace."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(Exception):
    """A bad setting, explained in one line that names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    #: ``postgresql://user@host:port/db``; unset means zero-config embedded mode.
    database_url: str | None = None
    #: ``redis://host:port/db`` (or rediss://, unix://); unset means embedded Valkey.
    redis_url: str | None = None
    #: Where the embedded servers keep their data.
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("booking-gateway")))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    lock_wait_ms: int = Field(default=2000, ge=0, le=60_000)
    lock_ttl_ms: int = Field(default=10_000, ge=100, le=600_000)
    max_booking_days: float = Field(default=31, gt=0, le=3660)
    max_availability_days: float = Field(default=366, gt=0, le=3660)

    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_pool_overflow: int = Field(default=10, ge=0, le=500)
    key_cache_ttl_ms: int = Field(default=1000, ge=0, le=60_000)
    #: Prefix of every Redis key and channel, so several deployments can share one Redis.
    redis_prefix: str = Field(default="bg", min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    #: FOR TESTS ONLY: book without the range lock. With the exclusion constraint dropped from a
    #: scratch database, this is the weakened build the torture tool's counter-proof runs against.
    unsafe_no_lock: bool = False
    #: FOR TESTS ONLY: book without checking the resources' rules (the torture's rules counter-proof).
    unsafe_no_rules: bool = False

    # --- live availability (subscriptions over WebSocket) and browsers ---
    #: Browser origins allowed to call the API, comma-separated (``https://app.example.com``), or
    #: ``*``. Used for CORS on HTTP and for the Origin check of WebSocket handshakes. Empty (the
    #: default): no cross-origin browser access; same-origin pages and non-browser clients
    #: (which send no Origin) are unaffected.
    allowed_origins: str = ""
    #: Request headers a browser on an allowed origin may send (CORS preflight), comma-separated.
    #: The default covers the API key, JSON, request ids and Apollo Client's client-awareness headers.
    cors_allow_headers: str = ("authorization, content-type, x-request-id, apollographql-client-name, "
                               "apollographql-client-version")
    #: Subscriptions one WebSocket connection may hold at once.
    ws_max_subscriptions: int = Field(default=20, ge=1, le=1000)
    #: WebSockets one tenant may hold open in one gateway process (N processes allow N times as many).
    ws_max_connections_per_tenant: int = Field(default=100, ge=1, le=100_000)
    #: Live subscriptions one tenant may hold in one gateway process, over all its WebSockets.
    ws_max_subscriptions_per_tenant: int = Field(default=500, ge=1, le=1_000_000)
    #: The fan-out budget of one tenant in one gateway process: the sum over its live subscriptions of
    #: resources x days of the window (a started day counts in full). Every event carries the
    #: availability of its whole window, so this bounds the bytes one booking can make the process send.
    live_max_resource_days_per_tenant: int = Field(default=10_000, ge=1, le=100_000_000)
    #: Interval of the server's keep-alive messages (graphql-transport-ws ``ping``, graphql-ws
    #: ``ka``); 0 turns them off.
    ws_keepalive_ms: int = Field(default=15_000, ge=0, le=600_000)
    #: Largest WebSocket message (frame) a client may send; a bigger one closes the socket (1009).
    ws_max_message_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    #: How long a new WebSocket may take to send ``connection_init`` (both protocols; 4408 after it).
    ws_init_timeout_ms: int = Field(default=10_000, ge=100, le=600_000)
    #: How long the hub gathers a burst of changes of one resource before reading it once.
    live_coalesce_ms: float = Field(default=5, ge=0, le=1000)
    #: Events of one resource a subscription may have waiting; past it they fold into the latest.
    live_buffer_per_resource: int = Field(default=16, ge=1, le=10_000)
    #: Availability reads the hub runs at once (each holds a database connection).
    live_read_concurrency: int = Field(default=4, ge=1, le=100)
    #: Longest pause between attempts to re-establish the Redis subscriber connection.
    live_reconnect_max_ms: int = Field(default=5000, ge=100, le=300_000)

    # --- holds (holdSlot) ---
    #: Longest hold a client may ask for (ttlSeconds).
    max_hold_seconds: int = Field(default=900, ge=1, le=86_400)
    #: A hold's length when holdSlot gives no ttlSeconds (capped at max_hold_seconds).
    default_hold_seconds: int = Field(default=300, ge=1, le=86_400)
    #: How often the sweeper marks expired holds and tells subscribers; 0 turns it off (holds
    #: still expire on time: the sweeper is only about prompt EXPIRED events).
    hold_sweep_interval_ms: int = Field(default=1000, ge=0, le=3_600_000)
    #: Expired holds one sweep round ends at most (it loops at once while rounds are full).
    hold_sweep_batch: int = Field(default=500, ge=1, le=100_000)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres") or not (parts.path.strip("/") or parts.query):
            raise ValueError("must look like postgresql://user@host:5432/dbname")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in ("redis", "rediss", "unix", "valkey", "valkeys"):
            raise ValueError("must look like redis://host:6379/0")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split(value):
            parts = urlsplit(origin)
            if origin != "*" and (parts.scheme not in ("http", "https") or not parts.hostname
                                  or parts.path not in ("", "/") or parts.query or parts.fragment):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com (or *)")
        return value

    @field_validator("cors_allow_headers")
    @classmethod
    def _header_names(cls, value: str) -> str:
        for name in _split(value):
            if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
                raise ValueError(f"{name!r} is not an HTTP header name")
        return value

    @model_validator(mode="after")
    def _no_unsafe_production(self) -> Settings:
        if self.unsafe_no_lock and self.env is Environment.PRODUCTION:
            raise ValueError("BOOKING_UNSAFE_NO_LOCK is for tests only and refused in production")
        if self.unsafe_no_rules and self.env is Environment.PRODUCTION:
            raise ValueError("BOOKING_UNSAFE_NO_RULES is for tests only and refused in production")
        return self

    @property
    def embedded(self) -> bool:
        """Zero-config mode: neither URL set, so the gateway runs its own servers."""
        return self.database_url is None and self.redis_url is None

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def cors_allow_header_list(self) -> tuple[str, ...]:
        """``cors_allow_headers`` split, in lower case."""
        return tuple(h.lower() for h in _split(self.cors_allow_headers))

    @property
    def allowed_origin_list(self) -> tuple[str, ...]:
        """``allowed_origins`` split, without trailing slashes."""
        return tuple(o.rstrip("/") for o in _split(self.allowed_origins))

    # --- per-tenant rate limiting (a token bucket per tenant in Redis) ---
    #: Requests per second each tenant may make, sustained, across every gateway process;
    #: 0 turns rate limiting off. Over the limit a request gets HTTP 429 with ``Retry-After``.
    rate_limit_per_s: int = Field(default=100, ge=0, le=1_000_000)
    #: Requests a tenant may make at once after a quiet spell (the bucket's size).
    rate_limit_burst: int = Field(default=200, ge=1, le=1_000_000)

    # --- the HTTP edge: limits that protect the server from hostile or clumsy clients ---
    #: Largest request body; above it the answer is HTTP 413.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    #: Deepest selection nesting an operation may have.
    max_query_depth: int = Field(default=10, ge=1, le=100)
    #: Most aliases an operation may use (aliases multiply the work of one request).
    max_aliases: int = Field(default=30, ge=0, le=10_000)
    #: Highest cost an operation may have, counted before execution from the document and its
    #: variables: 1 per field, a list's sub-selection times its length (``first:``, the resource ids
    #: as sent, the window's days). The largest query of the test suite and README costs ~101,500
    #: (every resource, each with every booking, at full pages); 30 aliases of nested
    #: ``bookings(first: 100)`` cost ~1.5 million.
    max_cost: int = Field(default=150_000, ge=1, le=1_000_000_000)
    #: Most lexical tokens a document may have (bounds the parser's work).
    max_tokens: int = Field(default=2000, ge=50, le=1_000_000)
    #: Most operations in one batched HTTP request; 0 (the default) refuses batches.
    max_batch: int = Field(default=0, ge=0, le=100)
    #: How long one HTTP request may run before it is answered with a timeout error.
    request_timeout_ms: int = Field(default=15_000, ge=100, le=600_000)
    #: How long a client may take to send a request's headers, from the connection (or the
    #: request's first byte) on; past it the connection is closed (HTTP 408 if a request began).
    http_header_timeout_ms: int = Field(default=10_000, ge=100, le=600_000)
    #: How long a client may take to send a request's whole body; past it, HTTP 408 and the
    #: connection is closed.
    http_body_timeout_ms: int = Field(default=30_000, ge=100, le=3_600_000)
    #: Largest response body; a larger answer is replaced by a RESPONSE_TOO_LARGE error.
    max_response_bytes: int = Field(default=8 * 1_048_576, ge=1024, le=1024 * 1_048_576)
    #: Introspection (``__schema``, ``__type``): default on in development, off in production.
    introspection: bool | None = None
    #: One log line per HTTP request (uvicorn's access log).
    access_log: bool = False
    #: permessage-deflate on WebSockets: less bandwidth, but CPU and ~40 KiB per subscriber.
    ws_compression: bool = False
    #: The fast path (booking_gateway/fastpath): off serves /graphql with Strawberry's own view
    #: and a schema without any of its hooks (slower; the reference the fast path is tested against).
    fast_path: bool = True

    # --- persisted documents (web/persisted.py, web/trusted_documents.py) ---
    #: Automatic persisted queries (Apollo's APQ protocol), stored in Redis per tenant.
    persisted_queries: bool = True
    #: A persisted query expires this long after its last registration.
    persisted_query_ttl_s: int = Field(default=7 * 86_400, ge=60, le=365 * 86_400)
    #: Longest persisted query stored (UTF-8 bytes); longer ones run but are not stored.
    persisted_query_max_bytes: int = Field(default=32_768, ge=256, le=1_048_576)
    #: Persisted queries one tenant may register per BOOKING_PERSISTED_QUERY_TTL_S period.
    persisted_query_quota: int = Field(default=1_000, ge=1, le=1_000_000)
    #: A trusted-documents manifest (Apollo's or graphql-codegen's): when set, only its documents run.
    trusted_documents: Path | None = None

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.production


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the environment; a bad value raises :class:`SettingsError` naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        first = err.errors()[0]
        if not first["loc"]:  # a rule across settings: its message names the variables
            raise SettingsError(first["msg"].removeprefix("Value error, ")) from None
        name = "BOOKING_" + str(first["loc"][0]).upper()
        value = first.get("input")
        if name.endswith("_URL") and isinstance(value, str):
            value = _without_password(value)
        raise SettingsError(f"{name}={value!r} is invalid: {first['msg']}") from None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
