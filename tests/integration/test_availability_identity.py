"""``Availability.id``: one id per resource and window, whatever the version, so a client's
normalized cache replaces its entry when it reads the same availability again."""

from __future__ import annotations

from uuid import UUID

from booking_gateway.domain.outcome import Deps
from tests.integration.graphql_client import Client

QUERY = """
query($ids: [ID!]!, $window: TimeWindowInput!) {
  availability(resourceIds: $ids, window: $window) { id resourceId version busy { start end } }
}"""
WEEK = {"start": "2031-05-05T00:00:00Z", "end": "2031-05-12T00:00:00Z"}
DAY = {"start": "2031-05-05T00:00:00Z", "end": "2031-05-06T00:00:00Z"}


async def test_the_id_stays_while_the_version_moves_and_differs_per_window_and_resource(
        deps: Deps, tenant_id: UUID) -> None:
    client = Client(deps, tenant_id)
    room, hall = await client.resource("Room"), await client.resource("Hall")
    before = (await client.execute(QUERY, ids=[room, hall], window=WEEK))["availability"]
    booked = await client.book(room, "2031-05-05T09:00:00Z", "2031-05-05T10:00:00Z", "identity-1")
    assert booked["error"] is None
    after = (await client.execute(QUERY, ids=[room, hall], window=WEEK))["availability"]
    assert after[0]["version"] > before[0]["version"]
    assert [a["id"] for a in after] == [b["id"] for b in before]
    day = (await client.execute(QUERY, ids=[room], window=DAY))["availability"]
    ids = {after[0]["id"], after[1]["id"], day[0]["id"], room, hall}
    assert len(ids) == 5  # neither another window, another resource nor a Node id shares it
