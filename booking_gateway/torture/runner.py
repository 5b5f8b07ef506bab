"""One torture run, start to finish: set up, drive clients under faults, quiesce, replay, check.

Everything the run starts is registered on one exit stack as soon as it exists, so it is stopped
(processes), closed (proxy, HTTP client, history file) and dropped (the scratch database, unless
``keep``) on every way out: success, failure, or Ctrl-C (asyncio cancels the run, and the stack
unwinds).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from booking_gateway.torture.checker import CheckResult, check
from booking_gateway.torture.checker.ops import operations
from booking_gateway.torture.clients import ClientSettings, Endpoint, Operations
from booking_gateway.torture.config import Config
from booking_gateway.torture.faults import Nemesis, Targets
from booking_gateway.torture.history import FINAL_STATE_FILE, HISTORY_FILE, Recorder, write_final_state
from booking_gateway.torture.model import History, Kind, Outcome, Phase
from booking_gateway.torture.procs import GatewayProcess, RedisServer, free_port
from booking_gateway.torture.proxy import FaultyProxy
from booking_gateway.torture.scratch import ScratchDatabase
from booking_gateway.torture.workload import Workload

Echo = Callable[[str], None]

_CREATE_RESOURCE = """mutation($input: CreateResourceInput!) {
  createResource(input: $input) { resource { id } error { code message } } }"""
_SET_RULES = """mutation($input: SetResourceRulesInput!) {
  setResourceRules(input: $input) { rules { version } error { code message } } }"""
_REPLAY_TRIES = 5


@dataclass(frozen=True)
class RunResult:
    history: History
    check: CheckResult
    reconcile_overlaps: int
    injected: dict[str, int]
    elapsed_s: float


async def run(config: Config, echo: Echo) -> RunResult:
    config.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config.seed)
    started = time.monotonic()

    def clock() -> float:
        return time.monotonic() - started

    database = ScratchDatabase(config.admin_url)
    async with contextlib.AsyncExitStack() as stack:
        recorder = stack.enter_context(Recorder(config.out / HISTORY_FILE))
        await database.create()
        if not config.keep:
            stack.push_async_callback(database.drop)
        echo(f"scratch database {database.name}" + (" (kept)" if config.keep else ""))
        await database.migrate()
        if config.weaken:
            await database.weaken()
            echo("WEAKENED build: exclusion constraint dropped, gateways run with BOOKING_UNSAFE_NO_LOCK=1")
        if config.weaken_holds:
            await database.weaken_holds()
            echo("WEAKENED holds: every hold is stored already expired, so no hold blocks its window")
        tenant_id, key = await database.create_tenant(f"torture-{secrets.token_hex(4)}")

        redis = RedisServer(config.out / "redis", free_port())
        stack.callback(redis.stop)
        await redis.start()
        proxy = FaultyProxy("127.0.0.1", redis.port)
        await proxy.start()
        stack.push_async_callback(proxy.close)
        env = config.gateway_env(database.url, proxy.url())
        gateways = [GatewayProcess(f"gw{i + 1}", free_port(), env, config.out) for i in range(config.gateways)]
        for g in gateways:
            stack.callback(g.stop)
        await asyncio.gather(*(g.start() for g in gateways))
        echo(f"{len(gateways)} gateways up ({', '.join(g.url for g in gateways)}), Redis on :{redis.port} "
             f"behind the proxy on :{proxy.port}; output in {config.out}")

        http = await stack.enter_async_context(_http_client(config))
        endpoint = Endpoint(http, key, {g.name: g.url for g in gateways})
        resources = [await _create_resource(http, gateways[0].url, key, i) for i in range(config.resources)]
        if config.run_rules is not None:
            for resource in resources:
                await _set_rules(http, gateways[0].url, key, resource, config.run_rules)
            echo("rules set on every resource" + (" (gateways run with BOOKING_UNSAFE_NO_RULES=1)"
                                                  if config.weaken_rules else ""))
        recorder.write({"type": "meta", "config": config.to_json(), "database": database.name,
                        "tenant": str(tenant_id), "resources": resources, "rules": config.run_rules})
        ops = Operations(endpoint, recorder, Workload(resources, config.round_s, seed=config.seed), clock,
                         ClientSettings(double_click=config.double_click))
        nemesis = Nemesis(Targets(gateways, redis, proxy, database, endpoint, config.lock_ttl_ms / 1000,
                                  weakened=config.weaken),
                          config.faults, config.fault_interval_s, rng, clock, recorder)
        await _drive(config, ops, nemesis, rng, clock, echo)

        echo("quiescing: stopping the run's gateways (in-flight requests finish or die with them)")
        await asyncio.gather(*(asyncio.to_thread(g.stop) for g in gateways))
        await _wait_no_backends(database)
        replay = GatewayProcess("replay", free_port(), env, config.out)
        stack.callback(replay.stop)
        await replay.start()
        endpoint.urls[replay.name] = replay.url
        endpoint.in_flight[replay.name] = 0
        replayed = await _replay_unknown(ops, recorder, replay.name)
        echo(f"replayed {replayed} operations whose outcome was unknown")
        await asyncio.to_thread(replay.stop)

        final = await database.final_state(tenant_id)
        write_final_state(config.out / FINAL_STATE_FILE, final)
        overlaps = await database.reconcile_overlaps()
        history = History(tuple(recorder.attempts), tuple(final), tuple(recorder.faults), config.run_rules)
    return RunResult(history, check(history), overlaps, dict(nemesis.injected), clock())


def _http_client(config: Config) -> httpx.AsyncClient:
    connections = config.clients * 3
    return httpx.AsyncClient(
        timeout=httpx.Timeout(config.request_timeout_s, connect=1.0),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections))


async def _create_resource(http: httpx.AsyncClient, url: str, key: str, index: int) -> str:
    response = await http.post(f"{url}/graphql", headers={"Authorization": f"Bearer {key}"}, json={
        "query": _CREATE_RESOURCE,
        "variables": {"input": {"clientMutationId": f"torture-room-{index}", "name": f"Hot room {index}"}}})
    response.raise_for_status()
    payload = response.json()["data"]["createResource"]
    if payload["error"]:
        raise RuntimeError(f"createResource failed: {payload['error']}")
    return str(payload["resource"]["id"])


async def _set_rules(http: httpx.AsyncClient, url: str, key: str, resource: str,
                     rules: dict[str, object]) -> None:
    response = await http.post(f"{url}/graphql", headers={"Authorization": f"Bearer {key}"}, json={
        "query": _SET_RULES, "variables": {"input": {
            "clientMutationId": f"torture-rules-{resource}", "resourceId": resource, "expectedVersion": 0,
            "rules": rules}}})
    response.raise_for_status()
    payload = response.json()["data"]["setResourceRules"]
    if payload["error"]:
        raise RuntimeError(f"setResourceRules failed: {payload['error']}")


async def _drive(config: Config, ops: Operations, nemesis: Nemesis, rng: random.Random,
                 clock: Callable[[], float], echo: Echo) -> None:
    """Clients and nemesis until the duration or the attempt budget is spent; then heal."""
    stop = asyncio.Event()
    gateways = list(ops.endpoint.urls)

    async def client(index: int) -> None:
        own = random.Random(rng.random())
        while not stop.is_set():
            await ops.perform(own, index, gateways)

    begin = clock()

    async def budget() -> None:
        while True:
            await asyncio.sleep(0.05)
            spent = config.max_attempts and len(ops.recorder.attempts) >= config.max_attempts
            if spent or (config.duration_s and clock() - begin >= config.duration_s):
                return

    async def progress() -> None:
        while True:
            await asyncio.sleep(config.progress_s)
            echo(_progress_line(ops, nemesis, clock()))

    tasks = [asyncio.create_task(client(i), name=f"client-{i}") for i in range(config.clients)]
    fault_task = asyncio.create_task(nemesis.run(stop), name="nemesis")
    helpers = [asyncio.create_task(progress(), name="progress"),
               asyncio.create_task(ops.stampedes(random.Random(rng.random()), config.stampede_every_s,
                                                 config.stampede_lead_s), name="stampedes")]
    try:
        await budget()
    finally:
        stop.set()
        ops.stopping = True
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(fault_task, *helpers, return_exceptions=True)
        _, pending = await asyncio.wait(tasks, timeout=config.request_timeout_s * 4)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    echo(_progress_line(ops, nemesis, clock()) + "  (workload stopped, faults healed)")
    fates = ", ".join(f"{fate} {n}" for fate, n in sorted(ops.workload.hold_fates.items()))
    echo(f"holds acknowledged, by fate: {fates or 'none'}")


def _progress_line(ops: Operations, nemesis: Nemesis, now: float) -> str:
    outcomes = Counter(a.outcome for a in ops.recorder.attempts)
    faults = sum(nemesis.injected.values())
    active = ",".join(sorted(nemesis.active)) or "-"
    return (f"[{now:6.1f}s] attempts {len(ops.recorder.attempts):,}  ok {outcomes[Outcome.OK]:,}  "
            f"fail {outcomes[Outcome.FAIL]:,}  unknown {outcomes[Outcome.UNKNOWN]:,}  "
            f"known bookings {len(ops.workload.known):,}  faults {faults} (active: {active})")


async def _wait_no_backends(database: ScratchDatabase, polls: int = 100) -> None:
    """A statement a killed gateway sent may still commit: wait until PostgreSQL has let go of all."""
    for _ in range(polls):
        if not await database.gateway_backends():
            return
        await asyncio.sleep(0.1)


async def _replay_unknown(ops: Operations, recorder: Recorder, gateway: str) -> int:
    """Send each unsettled operation again, same clientMutationId and input, until a definite answer."""
    pending = [op for op in operations(recorder.attempts) if not op.settled_in_run]
    limit = asyncio.Semaphore(8)

    async def one(op_id: int, kind: Kind) -> None:
        async with limit:
            for _ in range(_REPLAY_TRIES):
                sent = await ops.attempt(op_id, kind, recorder.inputs[op_id], gateway, client=-1,
                                         phase=Phase.REPLAY)
                error = (sent.payload or {}).get("error")
                if sent.outcome is Outcome.OK or (error and error["code"] != "CONTENDED"):
                    return
                await asyncio.sleep(0.2)

    await asyncio.gather(*(one(op.attempts[0].op, op.request.kind) for op in pending))
    return len(pending)
