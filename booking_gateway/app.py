"""Wiring, in one place: settings -> adapters -> use-case ports -> the Starlette app.

Nothing connects at import time; :class:`Gateway` opens connections in ``start`` and
closes them in ``stop`` (the app's lifespan).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from booking_gateway.domain.hold_rules import HoldLimits
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.ports import ConflictSpace, Lease, RangeLock
from booking_gateway.domain.rules import Limits
from booking_gateway.fastpath import hooks
from booking_gateway.fastpath.graphql_core import core_schema
from booking_gateway.infra.auth import KeyAuthenticator
from booking_gateway.infra.clock import SystemClock
from booking_gateway.infra.hold_sweeper import HoldSweeper, SweepConfig
from booking_gateway.infra.postgres.database import Database
from booking_gateway.infra.postgres.engine import create_engine
from booking_gateway.infra.postgres.store import PostgresBookingStore
from booking_gateway.infra.redis.events import RedisEventPublisher
from booking_gateway.infra.redis.persisted_queries import PersistedQueryLimits, RedisPersistedQueries
from booking_gateway.infra.redis.protocol import RESP_PROTOCOL
from booking_gateway.infra.redis.range_lock import RedisRangeLock
from booking_gateway.infra.redis.rate_limit import RedisRateLimiter
from booking_gateway.infra.redis.scripts import ScriptRunner
from booking_gateway.infra.settings import Settings, SettingsError, load_settings
from booking_gateway.live.hub import HubConfig, LiveHub, availability_reader, slots_reader
from booking_gateway.live.quotas import QuotaLimits, TenantQuotas
from booking_gateway.schema.build import build_schema
from booking_gateway.web import graphiql
from booking_gateway.web.admission import Admission
from booking_gateway.web.documents import DocumentCache, DocumentLimits
from booking_gateway.web.health import healthz, readyz
from booking_gateway.web.http_graphql import EdgeLimits, GraphQLOverHTTP
from booking_gateway.web.persisted import AutomaticPersistedQueries, PersistedDocuments, PersistedQueriesOff
from booking_gateway.web.stock_http import AdmittedDocuments, DocumentsRef, StockOperations, StockView
from booking_gateway.web.trusted_documents import ManifestError, TrustedDocuments, load_manifest
from booking_gateway.web.view import GatewayGraphQL

log = logging.getLogger(__name__)

#: Redis connections per process; each in-flight lock, rate-limit or publish call holds one.
REDIS_MAX_CONNECTIONS = 128


class NoLock:
    """The weakened build's lock (``BOOKING_UNSAFE_NO_LOCK``): holds nothing."""

    @asynccontextmanager
    async def hold(self, space: ConflictSpace, *,
                   still_wanted: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[Lease]:
        yield Lease(held=False)

    async def await_known_holds(self, space: ConflictSpace) -> None:
        """Nothing is held, so nothing to wait for."""


@dataclass
class Gateway:
    """The adapters of one process, opened and closed together."""

    settings: Settings
    engine: AsyncEngine = field(init=False)
    database: Database = field(init=False)
    redis: aioredis.Redis = field(init=False)
    lock: RedisRangeLock = field(init=False)
    deps: Deps = field(init=False)
    authenticator: KeyAuthenticator = field(init=False)
    live: LiveHub = field(init=False)
    rate_limiter: RedisRateLimiter = field(init=False)
    scripts: ScriptRunner = field(init=False)
    sweeper: HoldSweeper = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        if s.database_url is None or s.redis_url is None:
            raise SettingsError("BOOKING_DATABASE_URL and BOOKING_REDIS_URL must both be set "
                                "(or neither, for the zero-config mode of `booking-gateway serve`)")
        # SQLAlchemy for operator actions on the side; the request path uses asyncpg directly
        self.engine = create_engine(s.database_url, pool_size=1, max_overflow=2)
        self.database = Database(s.database_url, max_size=s.db_pool_size + s.db_pool_overflow)
        store = PostgresBookingStore(self.database)
        # A blocking pool: past max_connections a command waits briefly for a free connection
        # instead of failing (which the lock would read as "Redis unreachable").
        self.redis = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(
            s.redis_url, max_connections=REDIS_MAX_CONNECTIONS, timeout=1.0, socket_connect_timeout=1.0,
            socket_timeout=2.0, health_check_interval=10, protocol=RESP_PROTOCOL))  # from_pool: closing closes the pool
        self.scripts = ScriptRunner(s.redis_url, max_connections=REDIS_MAX_CONNECTIONS, socket_connect_timeout=1.0,
                                    socket_timeout=2.0)
        self.lock = RedisRangeLock.from_settings(self.redis, s, runner=self.scripts)
        self.rate_limiter = RedisRateLimiter.from_settings(self.redis, s, runner=self.scripts)
        limits = Limits(max_booking=timedelta(days=s.max_booking_days),
                        max_availability_window=timedelta(days=s.max_availability_days))
        lock: RangeLock = self.lock
        if s.unsafe_no_lock:
            log.warning("BOOKING_UNSAFE_NO_LOCK is set: booking WITHOUT the range lock (tests only)")
            lock = NoLock()
        if s.unsafe_no_rules:
            log.warning("BOOKING_UNSAFE_NO_RULES is set: booking WITHOUT checking resource rules (tests only)")
        self.deps = Deps(store=store, lock=lock,
                         events=RedisEventPublisher(self.redis, prefix=s.redis_prefix),
                         clock=SystemClock(), limits=limits, enforce_rules=not s.unsafe_no_rules,
                         holds=HoldLimits(s.max_hold_seconds, s.default_hold_seconds))
        self.sweeper = HoldSweeper(self.database, self.deps.events, SweepConfig(
            s.hold_sweep_interval_ms / 1000, s.hold_sweep_batch))
        self.authenticator = KeyAuthenticator(store.tenant_for_key, ttl_seconds=s.key_cache_ttl_ms / 1000)
        self.live = LiveHub(s.redis_url, availability_reader(self.deps), read_slots=slots_reader(self.deps),
                            prefix=s.redis_prefix,
                            config=HubConfig(coalesce_s=s.live_coalesce_ms / 1000,
                                             buffer_per_resource=s.live_buffer_per_resource,
                                             read_concurrency=s.live_read_concurrency,
                                             backoff_max_s=s.live_reconnect_max_ms / 1000),
                            quotas=TenantQuotas(QuotaLimits(
                                max_connections=s.ws_max_connections_per_tenant,
                                max_subscriptions=s.ws_max_subscriptions_per_tenant,
                                max_resource_days=s.live_max_resource_days_per_tenant)))

    async def check_database(self) -> None:
        await self.database.ping()

    async def check_redis(self) -> bool:
        return await self.lock.ping()

    def start(self) -> None:
        """Start what runs in the background: the live hub's Redis subscriber, the hold sweeper."""
        self.live.start()
        self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.live.stop()
        await self.lock.aclose()
        await self.scripts.aclose()
        await self.redis.aclose()
        await self.database.close()
        await self.engine.dispose()


class GatewayApp(Starlette):
    """Starlette, except that ``POST`` and ``GET /graphql`` without an ``Origin`` header go straight
    to :class:`GraphQLOverHTTP`: the middleware stack (error page, CORS, exception handlers, the
    router) adds nothing to such a request but CPU (measured in benchmarks/README.md and by
    ``benchmarks/http_transport.py``). A request with an ``Origin`` (a browser on another origin)
    takes the stack, CORS included.
    """

    def __init__(self, graphql: GraphQLOverHTTP, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"] == "/graphql" and scope["method"] in ("POST", "GET")
                and not scope.get("root_path") and not any(name == b"origin" for name, _ in scope["headers"])):
            scope["app"] = self
            await self._graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


#: Allocations between collections of the youngest generation, once the app has started.
YOUNG_GC_THRESHOLD = 10_000


def persisted_documents(settings: Settings, gateway: Gateway) -> PersistedDocuments:
    """Trusted documents if a manifest is set, else automatic persisted queries (unless off)."""
    if settings.trusted_documents is not None:
        try:
            trusted = TrustedDocuments(load_manifest(settings.trusted_documents))
        except ManifestError as err:
            raise SettingsError(str(err)) from None
        log.info("trusted documents: only the %d documents of %s run", len(trusted), settings.trusted_documents)
        return trusted
    if not settings.persisted_queries:
        return PersistedQueriesOff()
    return AutomaticPersistedQueries(RedisPersistedQueries(gateway.redis, settings.redis_prefix, PersistedQueryLimits(
        ttl_s=settings.persisted_query_ttl_s, max_bytes=settings.persisted_query_max_bytes,
        quota=settings.persisted_query_quota)))


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app (``uvicorn --factory booking_gateway.app:create_app``)."""
    settings = settings or load_settings()
    gateway = Gateway(settings)
    # The fast path: no schema extensions, both transports execute through graphql-core and mask
    # errors with web/errors.masked (WebSocket operations too, see web/websocket.py). Without it
    # (BOOKING_FAST_PATH=false) HTTP operations run through Strawberry's view and extensions.
    documents_ref = DocumentsRef()
    schema = build_schema(fast_path=True) if settings.fast_path else build_schema(
        extensions=[partial(AdmittedDocuments, ref=documents_ref)], fast_path=False)
    # One document cache, one set of limits and one rate limiter for every transport
    documents_ref.documents = DocumentCache(core_schema(schema), DocumentLimits(
        max_tokens=settings.max_tokens, max_depth=settings.max_query_depth, max_aliases=settings.max_aliases,
        max_cost=settings.max_cost, max_window_days=settings.max_availability_days,
        introspection=settings.introspection_enabled))
    admission = Admission(documents_ref.documents, gateway.rate_limiter, persisted_documents(settings, gateway))
    log.info("serving /graphql %s", f"on the fast path (BOOKING_FAST_PATH=true; hooks: {', '.join(hooks.HOOKS)})"
             if settings.fast_path else "with Strawberry's own view, no fast-path hook (BOOKING_FAST_PATH=false)")
    view = GatewayGraphQL(
        schema,
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=False,
        deps=gateway.deps,
        authenticator=gateway.authenticator,
        admission=admission,
        # open sockets of a revoked key close within the key cache's TTL plus a quarter of it
        key_check_interval_s=settings.key_cache_ttl_ms / 4000 if settings.key_cache_ttl_ms else 0.25,
        request_timeout_s=settings.request_timeout_ms / 1000,
        live=gateway.live,
        keep_alive=settings.ws_keepalive_ms > 0,
        keep_alive_interval=settings.ws_keepalive_ms / 1000,
        connection_init_wait_timeout=timedelta(milliseconds=settings.ws_init_timeout_ms),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        allowed_origins=settings.allowed_origin_list,
        fast_path=settings.fast_path,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # On SIGTERM uvicorn first closes every WebSocket (code 1012) and lets in-flight HTTP
        # requests finish; only then does this stop the hub and close the pools.
        gateway.start()
        # Everything allocated so far (schema, pools, caches) lives as long as the process:
        # moved out of the collector's sight, the request path's collections stay short
        # (the full ones otherwise walk the whole schema; measured in benchmarks/README.md)
        gc.collect()
        gc.freeze()
        # A request allocates a few thousand objects: collecting the young generation every 700
        # allocations (the default) cost about twice as much per request as every 10,000, whose
        # pauses stay about a millisecond (benchmarks/README.md)
        thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_GC_THRESHOLD, *thresholds[1:])
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            await view.gate.keys.close()
            await gateway.stop()

    http = GraphQLOverHTTP(
        schema, gateway.deps, gateway.authenticator.tenant_for, fallback=view, graphiql=not settings.production,
        admission=admission,
        stock=None if settings.fast_path else StockOperations(
            StockView(schema, suggestions=admission.suggestions), admission, settings.request_timeout_ms / 1000),
        edge=EdgeLimits(max_body_bytes=settings.max_body_bytes, max_batch=settings.max_batch,
                        request_timeout_s=settings.request_timeout_ms / 1000,
                        body_timeout_s=settings.http_body_timeout_ms / 1000,
                        max_response_bytes=settings.max_response_bytes))

    app = GatewayApp(
        http,
        routes=[
            Route("/graphql", http, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            WebSocketRoute("/graphql", view),
            *([] if settings.production else [Route("/graphiql/{name}", graphiql.asset)]),
            Route("/healthz", healthz),
            Route("/readyz", readyz(gateway.check_database, gateway.check_redis,
                                    rate_limit=lambda: gateway.rate_limiter.status,
                                    hold_sweeper=lambda: gateway.sweeper.status)),
        ],
        # browsers may read Retry-After (a 429's wait) and X-Request-Id (what to quote to the operator)
        middleware=[Middleware(CORSMiddleware, allow_origins=list(settings.allowed_origin_list),
                               allow_methods=["GET", "POST"], max_age=600,
                               allow_headers=list(settings.cors_allow_header_list),
                               expose_headers=["Retry-After", "X-Request-Id"])],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
