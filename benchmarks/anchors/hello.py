"""The anchors: a stock Strawberry hello world, and the same with its parser and validation caches.

``uvicorn benchmarks.anchors.hello:stock`` / ``...:cached``, served like the gateway.
"""

import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


stock = GraphQL(strawberry.Schema(query=Query))
cached = GraphQL(strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache]))
