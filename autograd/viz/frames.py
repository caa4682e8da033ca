"""The forward and backward pass step by step: one drawing per step, in the engine's own order."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

from .dot import BWD_COLOUR, FWD_COLOUR, UNKNOWN_GRAD, Layout, prepare_graph
from .numbers import number_text

if TYPE_CHECKING:
    import graphviz

    from ..value import Value


def _styles(colours: dict[str, str], known: Callable[[int], bool], current: int,
            hot_edges: set[int], layout: Layout) -> tuple[Callable, Callable, Callable]:
    hot_ops = {layout.edge_keys[e][0] for e in hot_edges}

    def node_attr(i: int) -> str:
        if i == current:
            return f' style=filled fillcolor="{colours["now"]}" color="{colours["line"]}" penwidth=3'
        if known(i):
            return f' style=filled fillcolor="{colours["fill"]}" color="{colours["line"]}"'
        return " " + UNKNOWN_GRAD

    def op_attr(i: int) -> str:
        if i in hot_ops:
            return f' style=filled fillcolor="{colours["now"]}" color="{colours["line"]}" penwidth=2'
        if known(i):
            return f' style=filled fillcolor="{colours["fill"]}" color="{colours["line"]}"'
        return " " + UNKNOWN_GRAD

    def edge_attr(e: int) -> str:
        if e in hot_edges:
            return f' color="{colours["line"]}" penwidth=3'
        consumer, _ = layout.edge_keys[e]
        return "" if known(consumer) else ' color="#c8c8c8"'

    return node_attr, op_attr, edge_attr


def _name(layout: Layout, i: int) -> str:
    v = layout.nodes[i]
    return v.label or number_text(v.data, layout.precision)


def _call(layout: Layout, i: int) -> str:
    v = layout.nodes[i]
    args = [_name(layout, layout.index[p]) for p in v.parents]
    if len(args) > 6:
        args = args[:3] + ["…"] + args[-2:]
    return f"{v.op_label}({', '.join(args)})"


def forward_frames(
    root: Value,
    rankdir: str = "LR",
    precision: int = 4,
    cluster: bool = False,
    max_nodes: int | None = 100,
) -> list[graphviz.Digraph]:
    """One drawing per forward step, in creation order (the engine's topological order).

    Step k makes the k-th node's value known (green); the current node and the edges it is
    computed through are highlighted.  Values not yet known are greyed out.
    """
    roots, nodes = prepare_graph(root, rankdir, precision, max_nodes, "forward_frames")
    layout = Layout(roots, nodes, precision, cluster)
    incoming: dict[int, set[int]] = {}
    for e, (consumer, _) in enumerate(layout.edge_keys):
        incoming.setdefault(consumer, set()).add(e)
    frames = []
    n = len(nodes)
    for step, v in enumerate(nodes):
        if v.fn is None:
            what = f"{v.label or 'constant'} = {number_text(v.data, precision)} is given"
        else:
            what = f"{v.label + ' = ' if v.label else ''}{_call(layout, step)} = {number_text(v.data, precision)}"
        node_attr, op_attr, edge_attr = _styles(
            FWD_COLOUR, functools.partial(operator.ge, step), step, incoming.get(step, set()), layout
        )
        body = layout.lines(lambda i: layout.record(i, True, False), node_attr, op_attr, edge_attr)
        frames.append(layout.digraph(body, rankdir, f"forward pass, step {step + 1}/{n}: {what}"))
    return frames


def backward_frames(
    root: Value,
    rankdir: str = "LR",
    precision: int = 4,
    cluster: bool = False,
    max_nodes: int | None = 100,
) -> list[graphviz.Digraph]:
    """One drawing per backward step, in the order ``root.backward()`` visits nodes (reverse topological).

    Step k makes the k-th visited node's gradient d(root)/d(node) known (red): every use of the node
    has already sent its share back, along the highlighted edges.  The gradients shown are those of
    one backward pass from ``root``, computed from the op table without touching ``.grad``; the last
    frame has every gradient known.
    """
    roots, nodes = prepare_graph(root, rankdir, precision, max_nodes, "backward_frames")
    if len(roots) != 1:
        raise ValueError("backward_frames: needs a single root Value (the one backward() is called on)")
    layout = Layout(roots, nodes, precision, cluster)
    order = nodes[::-1]  # exactly Value.backward's order: topological_order(root, reverse=True)
    grads = _one_pass_gradients(order)
    index = layout.index
    used: dict[int, set[int]] = {}  # node -> edges its gradient arrives through
    for e, (consumer, k) in enumerate(layout.edge_keys):
        if k >= 0:
            parent = index[nodes[consumer].parents[k]]
            used.setdefault(parent, set()).update((e, layout.out_edge[consumer]))
    rank = {index[v]: s for s, v in enumerate(order)}
    frames = []
    n = len(nodes)
    for step, v in enumerate(order):
        i = index[v]
        g = number_text(grads[i], precision)
        name = v.label or (v.op_label and f"{v.op_label}(…)") or number_text(v.data, precision)
        if step == 0:
            what = f"d{name}/d{name} = 1 (the seed)"
        else:
            uses = sum(1 for e in used.get(i, ()) if layout.edge_keys[e][1] >= 0)
            what = f"gradient of {name} = {g}, summed over its {uses} use{'s' if uses != 1 else ''}"
        node_attr, op_attr, edge_attr = _styles(
            BWD_COLOUR, functools.partial(_ranked_by, rank, step), i, used.get(i, set()), layout
        )
        def record(j: int, s: int = step) -> str:
            return layout.record(j, True, True if rank[j] <= s else "unknown", grads[j])

        body = layout.lines(record, node_attr, op_attr, edge_attr)
        frames.append(layout.digraph(body, rankdir, f"backward pass, step {step + 1}/{n}: {what}"))
    return frames


def _one_pass_gradients(order: list[Value]) -> list[float]:
    """d(root)/d(node) for one backward pass, by topological index (``order`` is root first).

    Runs the engine's own ``backward`` on zeroed gradients, then puts every ``.grad`` back as it
    was, so drawing never changes what the user's nodes hold.
    """
    saved = [v.grad for v in order]
    for v in order:
        v.grad = 0.0
    try:
        order[0].backward()
        grads = [v.grad for v in order]
    finally:
        for v, g in zip(order, saved):
            v.grad = g
    return grads[::-1]


# --- the player ----------------------------------------------------------------------------------


def _ranked_by(rank: list[int] | dict[int, int], step: int, j: int) -> bool:
    """Node j's gradient is known at this backward step."""
    return rank[j] <= step
