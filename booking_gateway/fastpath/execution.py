"""Executing one live event once per distinct subscription document, not once per subscriber.

Every subscriber of a window receives the same event; executing the selection set for each of
them made a booking's fan-out cost grow with the number of subscribers (more with long
busy/free lists; measured in benchmarks/README.md). A payload that carries ``shared_results`` (see
:class:`~booking_gateway.schema.subscription.AvailabilityChange` and ``BookableSlotsChange``) is
executed once per (document, variables) and the result reused for the other subscribers that
sent the same.

Sound only because nothing under those payloads depends on the context or the caller: their
fields are plain data of the event, which belongs to the one tenant of its channel.
"""

from __future__ import annotations

from typing import Any

from graphql import print_ast

from booking_gateway.fastpath.leaf_objects import LeafObjectExecutionContext


class SharedEventExecutionContext(LeafObjectExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # shared with the per-event copies (copy.copy) of this executor
        self._document_key: dict[str, str] = {}

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = getattr(self.root_value, "shared_results", None)
        if not isinstance(shared, dict):
            return super().execute_operation(serially)
        key = self._key()
        if key in shared:
            return shared[key]
        result = super().execute_operation(serially)
        if not self.is_awaitable(result):  # the fields of an event are plain data: it never awaits
            shared[key] = result
        return result

    def _key(self) -> str:
        if "key" not in self._document_key:
            fragments = sorted(print_ast(f) for f in self.fragment_definitions.values())
            variables = sorted(self.variable_values.coerced.items())
            self._document_key["key"] = "\n".join([print_ast(self.operation), *fragments, repr(variables)])
        return self._document_key["key"]
