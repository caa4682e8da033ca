"""The CLI's graph.svg: one training sample's loss graph after backward, drawn so that it teaches.

Which sample: the one with the largest loss (its gradients are what training still pushes on); when
every loss is 0 (a hinge loss after training), the one closest to the decision boundary.  How: each
neuron is one table (its weights, bias, w·x+b and activation, each with data and grad), so the moons
MLP fits a laptop screen; the few values after the model's outputs (the loss) are small boxes.

A model with more than ``MAX_NEURONS`` neurons or ``MAX_WEIGHTS`` weights (Fashion-MNIST's 784-128-10)
is summarised instead: the input (a picture when its size is a square, 28×28 or 8×8), in each hidden
layer the ``SHOWN_PER_LAYER`` neurons with the largest gradient of w·x+b (their weights as a picture
too) and one box for the rest, every output in one table (the target's row marked), and the loss
after it (cross-entropy's logsumexp and subtraction), with every number's gradient.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from typing import Any, Callable, Sequence

import numpy as np

from autograd import Value, topological_order
from autograd.internal import BUILTINS
from autograd.viz import number_text

__all__ = ["MAX_NEURONS", "MAX_WEIGHTS", "SHOWN_PER_LAYER", "choose_sample", "loss_graph_dot"]

MAX_NEURONS = 48  # the moons MLP has 33 neurons and 304 weights; digits' 64-32-10 has 2,368 weights
MAX_WEIGHTS = 400
SHOWN_PER_LAYER = 2  # hidden neurons drawn whole in a summarised layer
MAX_OUTPUT_ROWS = 20
_PICTURE_PT = 84  # side of an input or weight picture: 28 x 28 pixels of 3 pt, 8 x 8 of 10 pt
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
        if v.fn is not BUILTINS["dot"]:  # the built-in w·x+b only: a replaced dot may mean anything
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


def _table(nr: _Neuron) -> str:
    rows = [(f"w[{k}]", w) for k, w in enumerate(nr.weights)]
    if nr.bias is not None:
        rows.append(("b", nr.bias))
    rows.append(("w·x+b", nr.z))
    if nr.out is not nr.z:
        rows.append((nr.out.op_label, nr.out))
    cols = -(-len(rows) // _ROWS)
    height = -(-len(rows) // cols)
    title = html.escape(nr.path)
    out = ['<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">',
           f'<tr><td colspan="{3 * cols}" bgcolor="#eeeeee"><b>{title}</b></td></tr>']
    for r in range(height):
        cells = []
        for c in range(cols):
            k = c * height + r
            if k < len(rows):
                name, v = rows[k]
                cells.append(f"<td>{html.escape(name)}</td><td>{number_text(v.data)}</td>"
                             f'<td><font color="#b71c1c">{number_text(v.grad)}</font></td>')
            else:
                cells.append('<td border="0" colspan="3"></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>>"


def loss_graph_dot(loss: Value, title: str, penalty: Value | None = None, *,
                   classes: Sequence[str] | None = None, target: int | None = None) -> tuple[str, str]:
    """(DOT source, note) of ``loss``'s graph with one table per neuron; gradients must be computed.

    ``penalty`` (a regulariser's Value inside ``loss``) is drawn as one box, without its inner graph.
    A model too big to draw whole is summarised (see the module's docstring); ``classes`` then names
    the outputs and ``target`` (a class index) marks the one the sample belongs to.
    """
    nodes = topological_order([loss])
    if penalty is not None:
        inner = set(topological_order([penalty])) - {penalty}
        nodes = [v for v in nodes if v not in inner or not v.parents]
    neurons, owner = _neurons(nodes)
    weights = sum(len(nr.weights) for nr in neurons)
    note = ""
    tail = [v for v in nodes if v not in owner and v.parents]
    if neurons and (len(neurons) > MAX_NEURONS or weights > MAX_WEIGHTS):
        body, note = _summary(neurons, owner, tail, penalty, classes, target)
    else:
        body = _body(neurons, owner, tail, penalty)
    caption = "\\n".join([title, *textwrap.wrap(note, 110)]).replace('"', "'")
    head = ['digraph chalkgrad {',
            f'\tgraph [rankdir=LR fontname=Helvetica nodesep=0.08 ranksep=0.35 labelloc=t fontsize=13 '
            f'label="{caption}"]',
            '\tnode [shape=plaintext fontname=Helvetica fontsize=9 margin=0]',
            '\tedge [arrowsize=0.5 color="#888888"]']
    return "\n".join(head + body + ["}"]) + "\n", note


# --- a model too big to draw whole ------------------------------------------------------------------
def _layer(nr: _Neuron) -> str:
    return nr.path.rsplit(".", 2)[0]  # layers.0.neurons.17 -> layers.0


def _summary(neurons: list[_Neuron], owner: dict[Value, _Neuron], tail: list[Value], penalty: Value | None,
             classes: Sequence[str] | None, target: int | None) -> tuple[list[str], str]:
    """The input, a few hidden neurons per layer and a box for the rest, every output, the loss."""
    layers: dict[str, list[_Neuron]] = {}
    for nr in neurons:
        layers.setdefault(_layer(nr), []).append(nr)
    *hidden, last = sorted(layers, key=_natural)
    inputs = layers[hidden[0] if hidden else last][0].inputs
    side = math.isqrt(len(inputs))
    side = side if side * side == len(inputs) and side >= 4 else 0  # a square input is drawn as a picture
    lines = [f"\tinput [label={_input_table(inputs, side)}]"]
    edges: dict[tuple[str, str], None] = {}  # ordered, without repeats
    feeding = ["input"]
    shown_text = []
    for k, name in enumerate(hidden):
        members = layers[name]
        ranked = sorted(members, key=lambda nr: -abs(nr.z.grad))[:SHOWN_PER_LAYER]
        shown = sorted(ranked, key=lambda nr: _natural(nr.path))
        ids: list[str] = []
        for nr in shown:
            ids.append(f"h{k}_{len(ids)}")
            lines.append(f"\t{ids[-1]} [label={_neuron_table(nr, side if k == 0 else 0)}]")
        rest = len(members) - len(shown)
        if rest:
            ids.append(f"rest{k}")
            active = sum(1 for nr in members if nr not in shown and nr.out.data != 0)
            lines.append(f'\t{ids[-1]} [shape=box style="rounded,dashed" margin="0.08,0.04" '
                         f'label=<{rest} other neurons of {html.escape(name)}<br/>{active} of them not 0 here>]')
        edges.update(((a, b), None) for a in feeding for b in ids)
        feeding = ids
        shown_text.append(f"{len(shown)} of {len(members)} neurons of {name} (largest gradient of w·x+b)")
    outputs = layers[last]
    lines.append(f"\toutputs [label={_outputs_table(outputs, classes, target)}]")
    edges.update(((a, "outputs"), None) for a in feeding)
    ids_of: dict[Any, str] = {nr.out: "outputs" for nr in outputs}
    names: dict[Value, str] = {nr.out: f"output {k}" for k, nr in enumerate(outputs)}
    for v in tail:
        ids_of[v] = f"t{len(ids_of)}"
        for p in v.parents if v is not penalty else ():
            if p in ids_of:
                edges[(ids_of[p], ids_of[v])] = None
        lines.append(f"\t{ids_of[v]} {_tail_box(v, _formula(v, names) if v is not penalty else '')}")
        names[v] = v.label or v.op_label
    lines += [f"\t{a} -> {b}" for a, b in edges]
    weights = sum(len(nr.weights) for nr in neurons)
    note = (f"the model has {len(neurons)} neurons and {weights} weights, too many to draw whole: drawn are "
            f"the input, {'; '.join(shown_text) or 'no hidden layer'}; all {len(outputs)} outputs and the loss")
    return lines, note


def _colour(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(255 * min(1.0, max(0.0, c))):02x}" for c in (r, g, b))


def _grey(lo: float, hi: float) -> Callable[[float], str]:
    """Dark where the value is high: an image's ink on white paper."""
    span = hi - lo or 1.0
    return lambda v: _colour(*(1 - (v - lo) / span,) * 3)


def _signed(scale: float) -> Callable[[float], str]:
    """Red for positive, blue for negative, white at 0; full colour at +-scale."""
    scale = scale or 1.0

    def colour(v: float) -> str:
        t = max(-1.0, min(1.0, v / scale))
        return _colour(1, 1 - t, 1 - t) if t >= 0 else _colour(1 + t, 1 + t, 1)

    return colour


def _picture(values: list[float], side: int, colour: Callable[[float], str]) -> str:
    """side x side square cells, one per value, row by row, about _PICTURE_PT points across."""
    pixel = max(2, round(_PICTURE_PT / side))
    cell = f'<td width="{pixel}" height="{pixel}" fixedsize="true" bgcolor="%s"></td>'
    rows = ("<tr>" + "".join(cell % colour(v) for v in values[r * side:(r + 1) * side]) + "</tr>"
            for r in range(side))
    size = f'width="{side * pixel}" height="{side * pixel}" fixedsize="true"'  # square, however wide the cell
    return f'<table border="0" cellborder="0" cellspacing="0" cellpadding="0" {size}>' + "".join(rows) + "</table>"


def _largest(values: list[float]) -> float:
    return max((abs(v) for v in values if math.isfinite(v)), default=0.0)


def _input_table(inputs: list[Value], side: int) -> str:
    data, grads = [x.data for x in inputs], [x.grad for x in inputs]
    head = f'<tr><td colspan="2" bgcolor="#eeeeee"><b>input x: {len(inputs)} values</b></td></tr>'
    if not side:
        return (f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">{head}'
                f"<tr><td>from {number_text(min(data))} to {number_text(max(data))}</td></tr></table>>")
    finite = [v for v in data if math.isfinite(v)] or [0.0]
    return (f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">{head}'
            f"<tr><td>{_picture(data, side, _grey(min(finite), max(finite)))}</td>"
            f"<td>{_picture(grads, side, _signed(_largest(grads)))}</td></tr>"
            f'<tr><td>{side}×{side} pixels</td><td><font color="#b71c1c">their grads</font><br/>'
            f"(red +, blue −, max {number_text(_largest(grads))})</td></tr></table>>")


def _neuron_table(nr: _Neuron, side: int) -> str:
    """A hidden neuron: its weights as a picture (or their count), b, w·x+b and its activation."""
    ws = [w.data for w in nr.weights]
    title = f'<tr><td colspan="3" bgcolor="#eeeeee"><b>{html.escape(nr.path)}</b></td></tr>'
    if side:
        scale = _largest(ws)
        weights = (f'<tr><td colspan="3">{_picture(ws, side, _signed(scale))}</td></tr>'
                   f'<tr><td colspan="3">its {len(ws)} weights (red +, blue −,<br/>max {number_text(scale)})</td></tr>')
    else:
        weights = (f'<tr><td colspan="3">{len(ws)} weights, from {number_text(min(ws))} '
                   f"to {number_text(max(ws))}</td></tr>")
    rows = ([("b", nr.bias)] if nr.bias is not None else []) + [("w·x+b", nr.z)]
    rows += [(nr.out.op_label, nr.out)] if nr.out is not nr.z else []
    cells = "".join(f"<tr><td>{html.escape(name)}</td><td>{number_text(v.data)}</td>"
                    f'<td><font color="#b71c1c">{number_text(v.grad)}</font></td></tr>' for name, v in rows)
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">{title}{weights}{cells}</table>>'


def _outputs_table(outputs: list[_Neuron], classes: Sequence[str] | None, target: int | None) -> str:
    """Every output (up to MAX_OUTPUT_ROWS): its name, value and gradient; the target's row marked."""
    head = (f'<tr><td colspan="3" bgcolor="#eeeeee"><b>{len(outputs)} outputs</b> '
            f"({len(outputs[0].weights)} weights each)</td></tr>")
    rows = []
    for k, nr in enumerate(outputs[:MAX_OUTPUT_ROWS]):
        name = f"{k} {classes[k]}" if classes is not None and k < len(classes) else f"out[{k}]"
        mark = ' bgcolor="#fff2a8"' if k == target else ""
        name = f"<b>{html.escape(name)} (target)</b>" if k == target else html.escape(name)
        rows.append(f"<tr><td{mark}>{name}</td><td{mark}>{number_text(nr.out.data)}</td>"
                    f'<td{mark}><font color="#b71c1c">{number_text(nr.out.grad)}</font></td></tr>')
    if len(outputs) > MAX_OUTPUT_ROWS:
        rows.append(f'<tr><td colspan="3">{len(outputs) - MAX_OUTPUT_ROWS} more not shown</td></tr>')
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="2">{head}{"".join(rows)}</table>>'


def _formula(v: Value, names: dict[Value, str]) -> str:
    """How a value after the outputs is computed from them: 'logΣexp(10 outputs)', 'logΣexp - output 3'."""
    parts = [names.get(p) or p.label or number_text(p.data) for p in v.parents]
    if len(parts) == 2:
        return f"{parts[0]} {v.op_label} {parts[1]}"
    if all(p in names and names[p].startswith("output ") for p in v.parents):
        return f"{v.op_label}({len(parts)} outputs)"
    return f"{v.op_label}({', '.join(parts) if len(parts) < 4 else '…'})"


def _tail_box(v: Value, formula: str = "") -> str:
    """A value after the outputs (the loss and its parts): op (or how it is computed), value, gradient."""
    label = f"{html.escape(formula or v.op_label)}: {number_text(v.data)}"
    if v.label:
        label = f"{html.escape(v.label)} = {label}"
    return (f'[shape=box style=rounded margin="0.05,0.02" '
            f'label=<{label}<br/><font color="#b71c1c">grad {number_text(v.grad)}</font>>]')


# --- a model drawn whole ------------------------------------------------------------------------------
def _body(drawn: list[_Neuron], owner: dict[Value, _Neuron], tail: list[Value],
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
        lines.append(f"\t{node_id(nr.z)} [label={_table(nr)}]")
        layers.setdefault(nr.path.rsplit(".", 2)[0], []).append(node_id(nr.z))
    for members in layers.values():  # keep each layer's neurons in numeric order, top to bottom
        if len(members) > 1:
            lines.append("\t{rank=same; " + " -> ".join(members) + " [style=invis]}")
    leaves: dict[str, Value] = {}
    for nr in drawn:
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
        lines.append(f"\t{node_id(v)} {_tail_box(v)}")
    for nid, v in leaves.items():
        name = html.escape(v.label) if v.label else ""
        lines.append(f'\t{nid} [shape=box margin="0.05,0.02" label=<{name + " " if name else ""}{number_text(v.data)}'
                     f'<br/><font color="#b71c1c">grad {number_text(v.grad)}</font>>]')
    return lines
