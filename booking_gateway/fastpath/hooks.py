"""Every hook the fast path installs, in one place (``BOOKING_FAST_PATH``, default on).

Each one trades a public Strawberry/graphql-core API for a private one, for speed measured in
``benchmarks/fastpath.py``; tests/integration/test_fastpath_differential.py proves the answers
equal to a schema built without any of them, and tests/test_private_apis.py that no module
outside this package reaches into Strawberry's or graphql-core's internals.

=========================  ==================================================  ============================
hook                       replaces                                            private API it relies on
=========================  ==================================================  ============================
``execution_context``      graphql-core's field-by-field completion of plain   ``StrawberryGraphQLCoreExecu
                           objects (``leaf_objects``), and one execution per   tionContext``, graphql-core's
                           live event per document (``execution``)             ``ExecutionContext`` methods
``root_resolvers``         Strawberry's resolver wrapper on root fields        ``Schema.schema_converter``,
                                                                               ``StrawberryField`` internals
``flat_inputs``            Strawberry's generic input conversion               ``__strawberry_definition__``,
                                                                               ``NameConverter``
``graphql_core``           ``Schema.execute`` (per-request extensions)         ``Schema._schema``,
                                                                               ``_graphql_core``
=========================  ==================================================  ============================
"""

from __future__ import annotations

from typing import Any

import strawberry

from booking_gateway.fastpath import root_resolvers
from booking_gateway.fastpath.execution import SharedEventExecutionContext

#: The hooks, by the name used above (and in logs and the differential test's sabotage).
HOOKS = ("execution_context", "root_resolvers", "flat_inputs", "graphql_core")


def schema_options() -> dict[str, Any]:
    """``strawberry.Schema`` arguments of the fast path: its execution context class."""
    return {"execution_context_class": SharedEventExecutionContext}


def install(schema: strawberry.Schema) -> list[str]:
    """Install the hooks made after the schema is built (the direct root resolvers, which use
    the flat inputs); returns the ``Type.field`` names that got a direct resolver."""
    return root_resolvers.install(schema)
