"""The GraphiQL page and its assets, served from the package so it works without internet access.

The page loads React, ReactDOM and GraphiQL from ``/graphiql/`` (vendored unmodified from npm,
see ``static/graphiql/VERSIONS``), never from a CDN. GraphiQL is told not to persist headers:
the API key typed in the Headers tab is not left in the browser's localStorage. Development
only, as before: production serves neither the page nor the assets.
"""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

_STATIC = files("booking_gateway.web") / "static" / "graphiql"
#: Served assets and their media types (nothing else under the directory is reachable).
ASSETS = {
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "init.js": "text/javascript",
}
#: The assets are immutable for one version of the package: a day in the browser's cache.
CACHE_CONTROL = "public, max-age=86400"


def page() -> HTMLResponse:
    return HTMLResponse((_STATIC / "index.html").read_text(encoding="utf-8"))


async def asset(request: Request) -> Response:
    """``GET /graphiql/{name}``: one of :data:`ASSETS`."""
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        return PlainTextResponse(f"no GraphiQL asset {name!r}", status_code=404)
    return Response((_STATIC / name).read_bytes(), media_type=media_type,
                    headers={"cache-control": CACHE_CONTROL})
