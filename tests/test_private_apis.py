"""Private Strawberry and graphql-core APIs are used in ``booking_gateway/fastpath/`` only.

The rule, checked on the source of every module of the package outside fastpath/:

1. graphql-core only through its top-level package: ``from graphql import NAME`` with NAME in
   ``graphql.__all__`` (its documented API). No ``graphql.execution...``, ``graphql.pyutils...``,
   ``graphql.validation.rules...`` or any other submodule.
2. Strawberry only through the modules of :data:`PUBLIC_STRAWBERRY` (documented: the package
   itself, its integrations and the extension points the view documents); never a module or a
   name with a leading underscore (``strawberry.schema._graphql_core``), never
   ``strawberry.types.<submodule>`` internals, ``strawberry.schema.schema`` or
   ``strawberry.execution``.
3. No private attribute of Strawberry's objects (:data:`PRIVATE_ATTRIBUTES`: ``schema._schema``,
   ``schema.schema_converter``...), on anything but ``self`` (a class's own attribute of that name).

The same checker must find the private uses inside fastpath/, so the rule is not blind.
"""

from __future__ import annotations

import ast
from pathlib import Path

import graphql

from booking_gateway.fastpath import hooks, root_resolvers
from booking_gateway.schema.build import build_schema

PACKAGE = Path(__file__).resolve().parents[1] / "booking_gateway"
FASTPATH = PACKAGE / "fastpath"

PUBLIC_STRAWBERRY = {
    "strawberry",
    "strawberry.asgi",  # the ASGI view
    "strawberry.extensions",  # SchemaExtension, FieldExtension
    "strawberry.types",  # Info, ExecutionResult (the package, not its submodules)
    "strawberry.schema.config",  # StrawberryConfig
    "strawberry.dataloader",
    "strawberry.http",  # GraphQLHTTPResponse, what the view's process_result returns
    "strawberry.http.exceptions",  # what the WebSocket handlers raise
    # the view's graphql_transport_ws_handler_class / graphql_ws_handler_class take subclasses of these
    "strawberry.subscriptions.protocols.graphql_transport_ws",
    "strawberry.subscriptions.protocols.graphql_transport_ws.handlers",
    "strawberry.subscriptions.protocols.graphql_transport_ws.types",
    "strawberry.subscriptions.protocols.graphql_ws",
    "strawberry.subscriptions.protocols.graphql_ws.handlers",
    "strawberry.subscriptions.protocols.graphql_ws.types",
}

PRIVATE_ATTRIBUTES = {"_schema", "schema_converter", "execution_context_class", "_raw_info",
                      "__strawberry_definition__", "_provided_operation_name", "_get_field_exception_handlers"}


def violations(path: Path) -> list[str]:
    """The private API uses of one module, as ``file:line: what``."""
    found = []
    where = path.relative_to(PACKAGE.parent)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("graphql", "strawberry") and not _public_module(alias.name):
                    found.append(f"{where}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root not in ("graphql", "strawberry"):
                continue
            if not _public_module(node.module):
                found.append(f"{where}:{node.lineno}: from {node.module}")
                continue
            for alias in node.names:
                if alias.name.startswith("_") or (root == "graphql" and alias.name not in graphql.__all__):
                    found.append(f"{where}:{node.lineno}: from {node.module} import {alias.name}")
        elif (isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES
              and not (isinstance(node.value, ast.Name) and node.value.id == "self")):
            found.append(f"{where}:{node.lineno}: .{node.attr}")
    return found


def _public_module(module: str) -> bool:
    if any(part.startswith("_") for part in module.split(".")):
        return False
    if module.startswith("graphql"):
        return module == "graphql"
    return module in PUBLIC_STRAWBERRY


def test_no_module_outside_fastpath_uses_a_private_api() -> None:
    outside = [p for p in sorted(PACKAGE.rglob("*.py")) if FASTPATH not in p.parents]
    assert len(outside) > 50  # the whole package, not an empty glob
    assert [v for p in outside for v in violations(p)] == []


def test_the_checker_finds_the_private_uses_of_the_fast_path() -> None:
    found = "\n".join(v for p in sorted(FASTPATH.rglob("*.py")) for v in violations(p))
    for expected in ("from strawberry.schema._graphql_core", "from strawberry.execution", "._schema",
                     "from strawberry.schema.name_converter", "from strawberry.types.base",
                     "from strawberry.schema.schema", "from graphql.pyutils", ".schema_converter"):
        assert expected in found, f"{expected!r} not reported in:\n{found}"


def test_the_hooks_module_names_every_fastpath_module() -> None:
    documented = hooks.__doc__ or ""
    for module in {p.stem for p in FASTPATH.glob("*.py")} - {"__init__", "hooks"}:
        assert module in documented, f"fastpath/{module}.py is not listed in fastpath/hooks.py"


def test_without_the_fast_path_the_schema_has_no_hook() -> None:
    stock, fast = build_schema(fast_path=False), build_schema()
    assert fast.execution_context_class is not None
    assert fast.execution_context_class.__module__.startswith("booking_gateway.fastpath")
    assert not stock.execution_context_class.__module__.startswith("booking_gateway")  # Strawberry's own
    for root in ("query_type", "mutation_type"):
        for name, field in getattr(fast._schema, root).fields.items():
            # setResourceRules nests lists of input objects: Strawberry converts its input
            if name != "setResourceRules":
                assert field.resolve.__module__ == root_resolvers.__name__, name
        for name, field in getattr(stock._schema, root).fields.items():
            assert field.resolve.__module__ != root_resolvers.__name__, name
