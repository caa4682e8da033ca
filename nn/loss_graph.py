"""The CLI's graph.svg: one training sample's loss graph after backward, drawn so that it teaches.

Which sample: the one with the largest loss (its gradients are what training still pushes on); when
every loss is 0 (a hinge loss after training), the one closest to the decision boundary.  How: each
neuron is one table (its weights, bias, w·x+b and activation, each with data and grad), so the moons
MLP fits a laptop screen; the few values after the model's outputs (the loss) are small boxes.  A model
with more than ``MAX_NEURONS`` neurons is drawn as one output neuron, its weights and its inputs, with
a note saying so.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any, Callable

import numpy as np

from autograd import Value, topological_order

__all__ = ["MAX_NEURONS", "choose_sample", "loss_graph_dot"]

MAX_NEURONS = 48  # the moons MLP has 33 neurons and 304 weights; digits' 64-32-10 has 2,368 weights
MAX_WEIGHTS = 400
_ROWS = 5  # values per column of a neuron table: 16 weights + b + z + a -> 4 columns
_WEIGHT = re.compile(r"(.+)\.w\[(\d+)\]")


def choose_sample(model: Any, X: Any, y: Any, loss_fn: Callable) -> tuple[int, str]:
    """(index, why): the sample with the largest loss, or the one nearest the decision boundary."""
    import nn

    outs = nn.predict(model, X)
    targets = [t.tolist() if hasattr(t, "tolist") else t for t in y]
    losses = np.array([float(loss_fn(_as_list(o), t).data) for o, t in zip(outs, targets)])
    finite = np.where(np.isfinite(losses), losses, -np.inf)
    i = int(np.argmax(finite))
    if finite[i] > 0:
        return i, f"largest loss, {losses[i]:.4g}"
    o = np.asarray(outs, dtype=float)
    if o.ndim == 1:
        margin = np.abs(o)
    else:  # distance between the two highest scores
        top = np.sort(o, axis=1)
        margin = top[:, -1] - top[:, -2]
    i = int(np.argmin(margin))
    return i, f"every loss is 0; nearest the decision boundary (margin {margin[i]:.3g})"


def _as_list(o: Any) -> Any:
    return o.tolist() if isinstance(o, np.ndarray) else float(o)


def _num(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    a = abs(x)
    return f"{x:.1e}" if a and (a >= 1e4 or a < 0.005) else f"{x:.2f}"


def _natural(path: str) -> list:
    """Sort key that orders layers.0.neurons.2 before layers.0.neurons.10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


class _Neuron:
    def __init__(self, path: str, z: Value, weights: list[Value], inputs: list[Value], bias: Value | None) -> None:
        self.path, self.z, self.weights, self.inputs, self.bias = path, z, weights, inputs, bias
        self.out = z  # the activation's output once found


def _neurons(nodes: list[Value]) -> tuple[list[_Neuron], dict[Value, _Neuron]]:
    """Each ``dot`` node whose weights are labelled ``<path>.w[k]`` leaves, with its bias and activation."""
    users: dict[Value, list[Value]] = {}
    for v in nodes:
        for p in v.parents:
            users.setdefault(p, []).append(v)
    found = []
    for v in nodes:
        if v.op != "dot":
            continue
        n = len(v.parents) // 2
        ws, xs = list(v.parents[:n]), list(v.parents[n: 2 * n])
        paths = {m.group(1) if m and not w.parents else None for w in ws for m in [_WEIGHT.fullmatch(w.label or "")]}
        path = paths.pop() if len(paths) == 1 else None
        if not ws or path is None:  # not a neuron: its weights are not one module's labelled leaves
            continue
        bias = v.parents[2 * n] if len(v.parents) > 2 * n else None
        neuron = _Neuron(path, v, ws, xs, bias)
        after = users.get(v, [])
        if len(after) == 1 and len(after[0].parents) == 1:  # its activation
            neuron.out = after[0]
        found.append(neuron)
    found.sort(key=lambda nr: _natural(nr.path))
    owner = {}
    for nr in found:
        for member in (*nr.weights, nr.z, nr.out) + ((nr.bias,) if nr.bias is not None else ()):
            owner[member] = nr
    return found, owner


def _table(nr: _Neuron, show_weights: bool) -> str:
    rows = [(f"w[{k}]", w) for k, w in enumerate(nr.weights)] if show_weights else []
    if nr.bias is not None and show_weights:
        rows.append(("b", nr.bias))
    if nr.out is nr.z or show_weights:
        rows.append(("w·x+b", nr.z))
    if nr.out is not nr.z:
        rows.append((nr.out.op_label, nr.out))
    cols = -(-len(rows) // _ROWS)
    height = -(-len(rows) // cols)
    title = html.escape(nr.path) + ("" if show_weights else f" ({len(nr.weights)} weights and b not shown)")
    out = ['<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">',
           f'<tr><td colspan="{3 * cols}" bgcolor="#eeeeee"><b>{title}</b></td></tr>']
    for r in range(height):
        cells = []
        for c in range(cols):
            k = c * height + r
            if k < len(rows):
                name, v = rows[k]
                cells.append(f"<td>{html.escape(name)}</td><td>{_num(v.data)}</td>"
                             f'<td><font color="#b71c1c">{_num(v.grad)}</font></td>')
            else:
                cells.append('<td border="0" colspan="3"></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>>"


def loss_graph_dot(loss: Value, title: str, penalty: Value | None = None) -> tuple[str, str]:
    """(DOT source, note) of ``loss``'s graph with one table per neuron; gradients must be computed.

    ``penalty`` (a regulariser's Value inside ``loss``) is drawn as one box, without its inner graph.
    """
    nodes = topological_order([loss])
    if penalty is not None:
        inner = set(topological_order([penalty])) - {penalty}
        nodes = [v for v in nodes if v not in inner or not v.parents]
    neurons, owner = _neurons(nodes)
    weights = sum(len(nr.weights) for nr in neurons)
    note = ""
    if len(neurons) > MAX_NEURONS or weights > MAX_WEIGHTS:
        # too big to read whole: the output neuron with the largest gradient, and what feeds it
        outputs = [nr for nr in neurons if nr.out in set(nodes) and not any(nr.out in m.inputs for m in neurons)]
        pick = max(outputs or neurons, key=lambda nr: abs(nr.out.grad))
        note = (f"the model has {len(neurons)} neurons and {weights} weights, too many to draw legibly: "
                f"drawn is output neuron {pick.path} (largest gradient) with its inputs")
        feeding = {owner[x] for x in pick.inputs if x in owner}
        keep = sorted(feeding, key=lambda nr: _natural(nr.path)) + [pick]
        body = _body(keep, {pick}, owner, [])
    else:
        tail = [v for v in nodes if v not in owner and v.parents]
        body = _body(neurons, set(neurons), owner, tail, penalty)
    caption = (title + ("\\n" + note if note else "")).replace('"', "'")
    head = ['digraph chalkgrad {',
            f'\tgraph [rankdir=LR fontname=Helvetica nodesep=0.08 ranksep=0.35 labelloc=t fontsize=13 '
            f'label="{caption}"]',
            '\tnode [shape=plaintext fontname=Helvetica fontsize=9 margin=0]',
            '\tedge [arrowsize=0.5 color="#888888"]']
    return "\n".join(head + body + ["}"]) + "\n", note


def _body(drawn: list[_Neuron], full: set[_Neuron], owner: dict[Value, _Neuron], tail: list[Value],
          penalty: Value | None = None) -> list[str]:
    ids: dict[Any, str] = {}

    def node_id(v: Value) -> str:
        key = owner.get(v, v)
        if key not in ids:
            ids[key] = f"v{len(ids)}"
        return ids[key]

    lines = []
    drawn_set = set(drawn)
    layers: dict[str, list[str]] = {}
    for nr in drawn:
        lines.append(f"\t{node_id(nr.z)} [label={_table(nr, nr in full)}]")
        layers.setdefault(nr.path.rsplit(".", 2)[0], []).append(node_id(nr.z))
    for members in layers.values():  # keep each layer's neurons in numeric order, top to bottom
        if len(members) > 1:
            lines.append("\t{rank=same; " + " -> ".join(members) + " [style=invis]}")
    leaves: dict[str, Value] = {}
    for nr in drawn:
        if nr not in full:  # drawn as its output only
            continue
        for x in nr.inputs:
            if owner.get(x) in drawn_set:
                lines.append(f"\t{node_id(x)} -> {node_id(nr.z)}")
            elif x not in owner:
                leaves[node_id(x)] = x
                lines.append(f"\t{node_id(x)} -> {node_id(nr.z)}")
    for v in tail:
        for p in v.parents if v is not penalty else ():
            if p not in owner or owner[p] in drawn_set:
                lines.append(f"\t{node_id(p)} -> {node_id(v)}")
                if p not in owner and not p.parents:
                    leaves[node_id(p)] = p
        label = f"{html.escape(v.op_label)}: {_num(v.data)}"
        if v.label:
            label = f"{html.escape(v.label)} = {label}"
        lines.append(f'\t{node_id(v)} [shape=box style=rounded margin="0.05,0.02" '
                     f'label=<{label}<br/><font color="#b71c1c">grad {_num(v.grad)}</font>>]')
    for nid, v in leaves.items():
        name = html.escape(v.label) if v.label else ""
        lines.append(f'\t{nid} [shape=box margin="0.05,0.02" label=<{name + " " if name else ""}{_num(v.data)}'
                     f'<br/><font color="#b71c1c">grad {_num(v.grad)}</font>>]')
    return lines
