"""Depth and alias counts of a document, in time linear in its size (issue 12).

Strawberry's depth and alias validators walk a fragment again at every spread, so a chain of
fragments that each spread the next twice costs 2**n walks (22 fragments in 864 bytes froze a
worker for seconds). Here each definition is walked once, without recursion, and a fragment's
numbers are combined at its spreads in dependency order: depth by addition, aliases by
multiplication (a fragment spread twice counts its aliases twice, as Strawberry counted them).
The counting rules are Strawberry's: depth is the longest chain of fields with a selection
set, introspection fields (``__schema``...) not counted; every alias counts, wherever it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

#: Counts saturate here: a chain of n doubling fragments multiplies aliases by 2**n.
SATURATED = 1 << 62


@dataclass(frozen=True, slots=True)
class Walked:
    """One definition's own numbers; its spreads are resolved by :func:`shape`."""

    depth: int
    aliases: int
    #: (fragment name, nesting at the spread; None under an introspection field, whose depth is not counted)
    spreads: tuple[tuple[str, int | None], ...]
    #: selection nodes visited
    nodes: int


@dataclass(frozen=True, slots=True)
class OperationShape:
    name: str | None
    node: OperationDefinitionNode
    depth: int
    aliases: int


@dataclass(frozen=True, slots=True)
class Shape:
    operations: tuple[OperationShape, ...]
    #: selection nodes visited in all: each node of the document once, however often it is spread
    nodes: int


def walk(selection_set: SelectionSetNode) -> Walked:
    """Depth, aliases and spreads of one selection set, with an explicit stack (no recursion)."""
    depth = aliases = nodes = 0
    spreads: list[tuple[str, int | None]] = []
    stack: list[tuple[SelectionSetNode, int | None]] = [(selection_set, 0)]
    while stack:
        selections, level = stack.pop()
        for selection in selections.selections:
            nodes += 1
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                if selection.selection_set is not None:
                    counted = level is not None and not selection.name.value.startswith("__")
                    inner = level + 1 if counted and level is not None else None
                    if inner is not None:
                        depth = max(depth, inner)
                    stack.append((selection.selection_set, inner))
            elif isinstance(selection, FragmentSpreadNode):
                spreads.append((selection.name.value, level))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, level))
    return Walked(depth, aliases, tuple(spreads), nodes)


def dependency_order(dependencies: dict[str, Iterable[str]]) -> list[str]:
    """The names so that each comes after the ones it depends on (an iterative depth-first
    search). A cycle is cut where it closes: the spec rule NoFragmentCyclesRule refuses it."""
    order: list[str] = []
    seen: set[str] = set()
    for start in dependencies:
        if start in seen:
            continue
        seen.add(start)
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(dependencies[start]))]
        while stack:
            name, pending = stack[-1]
            for dependency in pending:
                if dependency in dependencies and dependency not in seen:
                    seen.add(dependency)
                    stack.append((dependency, iter(dependencies[dependency])))
                    break
            else:
                stack.pop()
                order.append(name)
    return order


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def shape(document: DocumentNode) -> Shape:
    """Depth and aliases of each operation; every fragment walked once, spreads combined."""
    walked = {name: walk(fragment.selection_set) for name, fragment in fragments_of(document).items()}
    resolved: dict[str, tuple[int, int]] = {}
    for name in dependency_order({n: (s for s, _ in w.spreads) for n, w in walked.items()}):
        resolved[name] = _combine(walked[name], resolved)
    operations = []
    nodes = sum(w.nodes for w in walked.values())
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            own = walk(definition.selection_set)
            nodes += own.nodes
            depth, aliases = _combine(own, resolved)
            operations.append(OperationShape(definition.name.value if definition.name else None, definition,
                                             depth, aliases))
    return Shape(tuple(operations), nodes)


def _combine(own: Walked, resolved: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """A definition's depth and aliases with its spreads' fragments (unknown or cyclic ones count 0)."""
    depth, aliases = own.depth, own.aliases
    for name, level in own.spreads:
        fragment_depth, fragment_aliases = resolved.get(name, (0, 0))
        if level is not None:
            depth = max(depth, level + fragment_depth)
        aliases = min(aliases + fragment_aliases, SATURATED)
    return depth, aliases
