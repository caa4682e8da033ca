"""``copy.deepcopy`` of a Value graph, without recursion (Value.__deepcopy__ calls :func:`deep_copy`).

It reads a node's slots (``data``, ``grad``, ``label``, ``fn``, ``parents``, ``_seq``) and imports no Value:
a node is whatever has ``parents`` and ``_seq``, as graph.py walks it.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["deep_copy"]


def deep_copy(root: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy(root)``: every Value reached through parents and Value gradients copied once, in
    creation order (parents first), ops shared (they are the table's entries); ``memo`` as deepcopy's."""
    found: dict[int, Any] = {}
    stack = [root]
    while stack:  # iterative: a deep chain must not recurse
        v = stack.pop()
        if id(v) in found or id(v) in memo:
            continue
        found[id(v)] = v
        stack.extend(v.parents)
        if _is_node(v.grad):
            stack.append(v.grad)
    nodes = sorted(found.values(), key=lambda v: v._seq)
    for v in nodes:
        c = object.__new__(type(v))
        c.data, c.label, c.fn, c._seq = v.data, v.label, v.fn, v._seq
        c.parents = tuple([memo[id(p)] for p in v.parents])
        memo[id(v)] = c
    for v in nodes:  # gradients last: a gradient graph may be made after the node it belongs to
        g = v.grad
        memo[id(v)].grad = memo[id(g)] if _is_node(g) else copy.deepcopy(g, memo)
        for name, attribute in getattr(v, "__dict__", {}).items():  # a subclass's attributes of its own
            setattr(memo[id(v)], name, copy.deepcopy(attribute, memo))
    memo.setdefault(id(memo), []).extend(nodes)  # deepcopy keeps the originals alive while memo lives
    return memo[id(root)]


def _is_node(x: Any) -> bool:
    return hasattr(x, "parents") and hasattr(x, "_seq")
