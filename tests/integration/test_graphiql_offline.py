"""GraphiQL works without internet access: the page names no external URL, every script and
stylesheet it references is served by the gateway, and headers (the API key) are not persisted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from booking_gateway.app import create_app
from booking_gateway.infra.settings import Environment, Settings

PAGE_HEADERS = {"accept": "text/html"}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


def references(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_the_page_references_only_assets_the_gateway_serves(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=PAGE_HEADERS)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(?:https?:)?//", page.text), "the page must not load anything from another host"
    assets = references(page.text)
    assert sorted(a.rsplit("/", 1)[-1] for a in assets) == sorted([
        "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "init.js"])
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 500, asset
        assert served.headers["content-type"].startswith("text/css" if asset.endswith(".css") else "text/javascript")
    init = (await client.get("/graphiql/init.js")).text
    assert "shouldPersistHeaders: false" in init
    assert not re.search(r"https?://", init)


async def test_only_the_listed_assets_are_reachable(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "VERSIONS", "..%2F..%2Fapp.py", "LICENSE.react"):
        assert (await client.get(f"/graphiql/{name}")).status_code == 404, name


async def test_production_serves_neither_page_nor_assets(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"env": Environment.PRODUCTION}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as http:
        assert "GraphiQL" not in (await http.get("/graphql", headers=PAGE_HEADERS)).text
        assert (await http.get("/graphiql/graphiql.min.js")).status_code == 404
