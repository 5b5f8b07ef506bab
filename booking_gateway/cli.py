"""``booking-gateway serve | migrate | tenant create | export-schema | reconcile``."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from booking_gateway import logs
from booking_gateway.infra.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from booking_gateway.infra.postgres.reconcile import Overlap

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="A GraphQL gateway that books time windows and never double-books.")
tenant_app = typer.Typer(no_args_is_help=True, help="Manage tenants.")
app.add_typer(tenant_app, name="tenant")
key_app = typer.Typer(no_args_is_help=True, help="Manage API keys.")
app.add_typer(key_app, name="key")

log = logging.getLogger("booking_gateway")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


def _configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logs.config(settings.log_level, json=settings.production))


@contextmanager
def _urls(settings: Settings, *, redis: bool = False) -> Iterator[Settings]:
    """Settings with the URLs as given, or those of the embedded servers (zero-config).

    Commands that only touch the database (``redis=False``) need only BOOKING_DATABASE_URL.
    """
    if not settings.embedded:
        if settings.database_url is None or (redis and settings.redis_url is None):
            typer.echo("error: set both BOOKING_DATABASE_URL and BOOKING_REDIS_URL, or neither "
                       "(zero-config mode with embedded servers)", err=True)
            raise typer.Exit(2)
        yield settings
        return
    from booking_gateway.infra.embedded import EmbeddedServersError
    from booking_gateway.infra.embedded_mode import embedded_urls

    with ExitStack() as stack:
        try:
            resolved = stack.enter_context(embedded_urls(settings))
        except EmbeddedServersError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        yield resolved


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (BOOKING_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (BOOKING_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve GraphQL on /graphql. With no URLs set, runs embedded PostgreSQL and Valkey."""
    import uvicorn

    from booking_gateway.infra.postgres.migrate import migrate
    from booking_gateway.web.header_timeout import protocol_class

    settings = _settings()
    _configure_logging(settings)
    _check_trusted_documents(settings)
    with _urls(settings, redis=True) as resolved:
        assert resolved.database_url is not None and resolved.redis_url is not None
        if settings.embedded:
            migrate(resolved.database_url)
            key = asyncio.run(_development_key(resolved))
            typer.echo(f"GraphiQL: http://{host or settings.host}:{port or settings.port}/graphql")
            typer.echo(f"API key: {key}")
        os.environ["BOOKING_DATABASE_URL"] = resolved.database_url
        os.environ["BOOKING_REDIS_URL"] = resolved.redis_url
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: make that an
        # exception, so the embedded servers are stopped on the way out instead of orphaned
        signal.signal(signal.SIGTERM, _exit_on_signal)
        uvicorn.run("booking_gateway.app:create_app", factory=True, host=host or settings.host,
                    port=port or settings.port, workers=workers, log_level=settings.log_level.lower(),
                    log_config=logs.config(settings.log_level, json=settings.production),
                    access_log=settings.access_log, ws_per_message_deflate=settings.ws_compression,
                    ws_max_size=settings.ws_max_message_bytes,
                    timeout_graceful_shutdown=10, proxy_headers=False,
                    http=protocol_class())  # BOOKING_HTTP_HEADER_TIMEOUT_MS (read by each worker)


def _check_trusted_documents(settings: Settings) -> None:
    """A malformed manifest stops ``serve`` with one line, before any worker starts."""
    if settings.trusted_documents is None:
        return
    from booking_gateway.web.trusted_documents import ManifestError, load_manifest

    try:
        load_manifest(settings.trusted_documents)
    except ManifestError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (idempotent)."""
    from booking_gateway.infra.postgres.migrate import migrate

    settings = _settings()
    _configure_logging(settings)
    with _urls(settings) as resolved:
        assert resolved.database_url is not None
        migrate(resolved.database_url)
    typer.echo("database schema is up to date")


@tenant_app.command("create")
def tenant_create(name: Annotated[str, typer.Argument(help="Unique tenant name.")]) -> None:
    """Create a tenant and its first API key; the key is printed once, as the last word."""
    from booking_gateway.infra.tenancy_admin import create_tenant

    tenant, key = _admin(create_tenant, name)
    typer.echo(f"tenant {tenant.name} created with id {tenant.id}")
    typer.echo("Store this key now; it is not shown again.")
    typer.echo(f"API key: {key}")


@key_app.command("create")
def key_create(tenant: Annotated[str, typer.Argument(help="Tenant name or id.")]) -> None:
    """Issue a new API key for a tenant; the key is printed once, as the last word."""
    from booking_gateway.infra.tenancy_admin import create_key

    secret = _admin(create_key, tenant)
    typer.echo("Store this key now; it is not shown again.")
    typer.echo(f"API key: {secret}")


@key_app.command("list")
def key_list(tenant: Annotated[str, typer.Argument(help="Tenant name or id.")]) -> None:
    """List a tenant's keys (id, hint, created, revoked); secrets are never shown."""
    from booking_gateway.infra.tenancy_admin import list_keys

    keys = _admin(list_keys, tenant)
    typer.echo(f"{'id':36}  {'hint':12}  {'created':25}  revoked")
    for k in keys:
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "-"
        typer.echo(f"{k.id!s:36}  {k.hint:12}  {k.created_at.isoformat(timespec='seconds'):25}  {revoked}")


@key_app.command("revoke")
def key_revoke(key: Annotated[str, typer.Argument(help="The key itself, or its id from `key list`.")]) -> None:
    """Revoke a key; every gateway process refuses it within BOOKING_KEY_CACHE_TTL_MS."""
    from booking_gateway.infra.tenancy_admin import revoke_key

    revoked = _admin(revoke_key, key)
    typer.echo(f"revoked key {revoked.id} ({revoked.hint}...) of tenant {revoked.tenant_id}")


@app.command("prune-idempotency")
def prune_idempotency(
    older_than_days: Annotated[float, typer.Option(min=1, help="Forget keys older than this.")] = 30,
) -> None:
    """Delete idempotency records older than N days (run it daily: they grow with every request).

    A forgotten clientMutationId sent again is a new request, so keep them longer than any
    client retries."""
    from datetime import timedelta

    from booking_gateway.infra.postgres.retention import prune_idempotency_records

    deleted = _admin(lambda engine, _: prune_idempotency_records(engine, timedelta(days=older_than_days)), "")
    typer.echo(f"deleted {deleted} idempotency records older than {older_than_days:g} days")


@app.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; stdout if omitted.")]
    = None,
) -> None:
    """Print the GraphQL SDL of the gateway (the public contract)."""
    from booking_gateway.schema.build import export_sdl

    sdl = export_sdl()
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl)
        typer.echo(f"wrote {output}", err=True)


@app.command()
def reconcile(
    prometheus: Annotated[bool, typer.Option(
        "--prometheus", help="Print the overlap count as Prometheus metrics instead, and exit 0 "
        "whenever it could be counted (alert on booking_overlapping_pairs > 0).")] = False,
    pushgateway: Annotated[str | None, typer.Option(
        help="Push the metrics to this Prometheus Pushgateway (job booking-gateway-reconcile); "
        "exits 0 whenever they were pushed.")] = None,
) -> None:
    """Find conflicting bookings (confirmed or live holds whose windows, buffers included,
    overlap); exit 1 if there are any, 0 if none."""
    settings = _settings()
    if prometheus or pushgateway:
        _reconcile_metrics(settings, prometheus, pushgateway)
        return
    with _urls(settings) as resolved:
        overlaps = asyncio.run(_find_overlaps(resolved))
    for o in overlaps:
        typer.echo(f"OVERLAP tenant={o.tenant_id} resource={o.resource_id} "
                   f"booking={o.first_id} [{o.first_start.isoformat()}, {o.first_end.isoformat()}) "
                   f"booking={o.second_id} [{o.second_start.isoformat()}, {o.second_end.isoformat()})")
    typer.echo(f"conflicting booking pairs (confirmed or live holds, buffers included): {len(overlaps)}")
    raise typer.Exit(1 if overlaps else 0)


def _reconcile_metrics(settings: Settings, show: bool, pushgateway: str | None) -> None:
    """``reconcile`` as a periodic job's metric: the count is the news, not the exit status."""
    from booking_gateway.infra.postgres.engine import create_engine
    from booking_gateway.infra.postgres.reconcile import count_overlaps, prometheus_text, push_overlaps

    async def count(url: str) -> int:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            return await count_overlaps(engine)
        finally:
            await engine.dispose()

    with _urls(settings) as resolved:
        assert resolved.database_url is not None
        overlaps = asyncio.run(count(resolved.database_url))
    if pushgateway:
        try:
            push_overlaps(pushgateway, overlaps)
        except OSError as err:
            typer.echo(f"error: could not push to {pushgateway}: {err}", err=True)
            raise typer.Exit(2) from None
    if show:
        typer.echo(prometheus_text(overlaps), nl=False)


def _admin(action: Callable[[AsyncEngine, str], Awaitable[T]], argument: str) -> T:
    """Run one operator action on the configured database; its mistakes are one-line errors."""
    from booking_gateway.infra.postgres.engine import create_engine
    from booking_gateway.infra.tenancy_admin import TenantError

    async def run(url: str) -> T:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            return await action(engine, argument)
        finally:
            await engine.dispose()

    with _urls(_settings()) as resolved:
        assert resolved.database_url is not None
        try:
            return asyncio.run(run(resolved.database_url))
        except TenantError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None


async def _find_overlaps(settings: Settings) -> list[Overlap]:
    from booking_gateway.infra.postgres.engine import create_engine
    from booking_gateway.infra.postgres.reconcile import find_overlaps

    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        return list(await find_overlaps(engine))
    finally:
        await engine.dispose()


async def _development_key(settings: Settings) -> str:
    from booking_gateway.infra.tenancy_admin import development_key

    return await development_key(settings)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                "help_option_names": []})
def torture(ctx: typer.Context) -> None:
    """Race gateways under injected faults and check the invariants (``torture --help``)."""
    from booking_gateway.torture.cli import main as torture_main

    raise typer.Exit(torture_main(list(ctx.args)))


def main() -> None:
    app()
