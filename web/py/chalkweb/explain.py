"""What the playground shows when a sample or a neuron is clicked: its graph (``draw_dot``) and, for a
neuron, its formula with the numbers plugged in and the chain-rule products of its gradient.

Everything is computed by the engine: one sample's loss is built as a graph and ``backward()`` fills
the gradients; the training gradients are left as they were.  Numbers print with autograd's own
``number_text`` (the drawing's format).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import autograd
from autograd import Value
from autograd.viz import draw_dot, number_text

from .playground import FEATURES, Playground

__all__ = ["sample_graph", "neuron_view", "why_zero"]

SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def num(x: float, precision: int = 2) -> str:
    """A drawn number in the page's text, as autograd's drawings print it (minus signs typeset)."""
    return number_text(x, precision).replace("-", "−")


def factor(x: float) -> str:
    """A number as the right-hand factor of a product: negative ones in parentheses."""
    return f"({num(x)})" if x < 0 else num(x)


@contextlib.contextmanager
def _grads_kept(pg: Playground) -> Iterator[None]:
    """The parameters' gradients (the training step's) back as they were after the block."""
    saved = [p.grad for p in pg.params]
    try:
        for p in pg.params:
            p.grad = 0.0
        yield
    finally:
        for p, g in zip(pg.params, saved):
            p.grad = g


def why_zero(pg: Playground, i: int, loss: float, score: Any) -> str:
    """Why sample i's gradients are all zero, when they are (else "")."""
    if loss != 0.0:
        return ""
    if pg.loss_name == "hinge":
        return (f"loss 0: y·f = {num(pg.y[i] * score)} ≥ 1, the point is on the right side with a margin, "
                "so the hinge max(0, 1 − y·f) is flat here and every gradient is 0 — not a bug.")
    if pg.loss_name == "multiclass_hinge":
        return ("loss 0: the right class's score beats every other by at least the margin 1, so the hinge is flat "
                "here and every gradient is 0 — not a bug.")
    return "loss 0: the prediction is exact, so every gradient is 0 — not a bug."


def sample_graph(pg: Playground, i: int, epoch: int | None = None, cluster: bool = True) -> dict[str, Any]:
    """DOT of sample i's loss with the gradients of one backward pass: layers top to bottom, a box per neuron."""
    if not 0 <= i < len(pg.X):
        raise ValueError(f"sample: index must be from 0 to {len(pg.X) - 1}, got {i}")
    with pg.at_epoch(epoch) as shown, _grads_kept(pg):
        loss, layers, _ = pg.sample_loss(i)
        loss.backward()
        dot = draw_dot(loss, max_nodes=None, compact=True, cluster=cluster, rankdir="TB").source
        out = layers[-1][0].data if pg.classes == 1 else [v.data for v in layers[-1]]
    return {"dot": dot, "index": i, "x": pg.X[i], "label": pg.y[i], "loss": loss.data, "epoch": shown,
            "test": i in pg.test, "output": out, "nodes": len(autograd.topological_order(loss)),
            "why": why_zero(pg, i, loss.data, out)}


def _input_names(pg: Playground, layer: int) -> list[str]:
    if layer == 1:
        return [FEATURES[f][0] for f in pg.features]
    return [f"h{layer - 1},{k + 1}".translate(SUB) for k in range(pg.widths[layer - 2])]


def _weighted_sum(weights: list[float], names: list[str], bias: float) -> str:
    terms = []
    for k, (w, name) in enumerate(zip(weights, names)):
        sign = ("−" if w < 0 else "") if k == 0 else (" − " if w < 0 else " + ")
        terms.append(f"{sign}{num(abs(w))}·{name}")
    return "".join(terms) + (" − " if bias < 0 else " + ") + num(abs(bias))


def neuron_view(pg: Playground, layer: int, j: int, i: int, epoch: int | None = None) -> dict[str, Any]:
    """Neuron j of layer ``layer`` (1 = first hidden layer) on sample i: its graph and its formula."""
    if not 1 <= layer <= len(pg.model.layers) or not 0 <= j < len(pg.model.layers[layer - 1].neurons):
        raise ValueError(f"neuron: no neuron {j} in layer {layer}")
    neuron = pg.model.layers[layer - 1].neurons[j]
    names = _input_names(pg, layer)
    with pg.at_epoch(epoch) as shown, _grads_kept(pg):
        loss, layers, zs = pg.sample_loss(i)
        loss.backward()
        z, out, inputs = zs[layer - 1][j], layers[layer][j], layers[layer - 1]
        g_out, g_z = out.grad, z.grad
        # the neuron alone, its inputs as leaves holding this sample's values, fed this sample's gradient
        for p in pg.params:
            p.grad = 0.0
        leaves = [Value(v.data, label=name) for v, name in zip(inputs, names)]
        z_alone = neuron.preactivation(leaves)
        out_alone = neuron.activate(z_alone)
        z_alone.label, out_alone.label = "z", ("out" if out_alone is not z_alone else "z = out")
        out_alone.backward(g_out)
        dot = draw_dot(out_alone, max_nodes=None, compact=True, rankdir="LR").source
        weights = [w.data for w in neuron.w]
        bias = neuron.b.data if neuron.b is not None else 0.0
        w_grads = [w.grad for w in neuron.w]  # this sample's, from out_alone.backward
        slope = _slope(neuron, z.data)
    last = layer == len(pg.model.layers)
    act = "linear" if last else pg.activation
    formula = [f"z = {_weighted_sum(weights, names, bias)} = {num(z.data)}",
               f"out = z = {num(out.data)} (linear output)" if last
               else f"out = {act}({num(z.data)}) = {num(out.data)}",
               f"∂L/∂out = {num(g_out)} ({'from the loss' if last else 'summed over the neurons of the next layer'})",
               f"∂L/∂z = ∂L/∂out · {act}′(z) = {num(g_out)} · {factor(slope)} = {num(g_z)}"]
    formula += [f"∂L/∂w{str(k + 1).translate(SUB)} = ∂L/∂z · {name} = {num(g_z)} · {factor(v.data)} = {num(g)}"
                for k, (name, v, g) in enumerate(zip(names, inputs, w_grads))]
    formula.append(f"∂L/∂b = ∂L/∂z = {num(g_z)}")
    return {"dot": dot, "layer": layer, "index": j, "sample": i, "epoch": shown, "formula": formula,
            "z": z.data, "out": out.data, "grad_z": g_z, "weights": weights, "bias": bias, "loss": loss.data}


def _slope(neuron: Any, z: float) -> float:
    """The activation's derivative at z, from a one-node graph's backward pass."""
    leaf = Value(z)
    out = neuron.activate(leaf)
    if out is leaf:
        return 1.0
    out.backward()
    return leaf.grad
