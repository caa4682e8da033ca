"""Graph traversal shared by backward, drawing and the compiler: iterative, never recursive.

It reads two attributes of a node, ``parents`` and ``_seq`` (its creation number), and imports no
Value: anything shaped like a node can be walked.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Iterable, Protocol, TypeVar

from .modes import refuse_in_own_work

__all__ = ["topological_order", "reachable", "Node"]


class Node(Protocol):
    """What the traversal reads of a node (a Value is one)."""

    @property
    def parents(self) -> tuple[Any, ...]: ...


N = TypeVar("N", bound=Node)
_seq = attrgetter("_seq")


def reachable(roots: Iterable[N]) -> list[N]:
    """Every node the roots depend on (roots included), each once, in breadth-first order."""
    refuse_in_own_work("autograd's graph walk (reachable)")
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


def topological_order(roots: Any, reverse: bool = False) -> list[Any]:
    """Nodes reachable from ``roots`` (a node or an iterable of nodes), parents before children
    (``reverse=True``: children first).

    A node is always created after its parents, so sorting by creation number is a topological
    order: one C-level sort instead of a post-order walk, and no recursion however deep the graph.
    """
    refuse_in_own_work("autograd's topological_order")
    nodes = reachable([roots] if hasattr(roots, "parents") else roots)
    nodes.sort(key=_seq, reverse=reverse)
    return nodes
