"""Graph traversal shared by backward, drawing and the compiler: iterative, never recursive."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .value import Value

__all__ = ["topological_order", "reachable"]

_seq = attrgetter("_seq")


def reachable(roots: Iterable["Value"]) -> list["Value"]:
    """Every node the roots depend on (roots included), each once, in breadth-first order."""
    nodes = list(dict.fromkeys(roots))
    seen = set(nodes)
    # Appending to a list while iterating over it is well defined in Python: the loop also visits
    # what it appends, so the list is its own queue. Bound methods in locals: this loop runs once
    # per node of every backward pass.
    see, keep = seen.add, nodes.append
    for node in nodes:
        for parent in node.parents:
            if parent not in seen:
                see(parent)
                keep(parent)
    return nodes


def topological_order(roots: "Value | Iterable[Value]", reverse: bool = False) -> list["Value"]:
    """Nodes reachable from ``roots``, parents before children (``reverse=True``: children first).

    A node is always created after its parents, so sorting by creation number is a topological
    order: one C-level sort instead of a post-order walk, and no recursion however deep the graph.
    """
    from .value import Value

    nodes = reachable([roots] if isinstance(roots, Value) else roots)
    nodes.sort(key=_seq, reverse=reverse)
    return nodes
