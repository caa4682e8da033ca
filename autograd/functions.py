"""Functions of several Values: n-ary nodes (sum, dot, logsumexp) and what is built from them."""

from __future__ import annotations

from typing import Iterable, Sequence

from .table import OPS
from .value import Number, Value, apply

__all__ = ["maximum", "minimum", "sum", "dot", "logsumexp", "softmax", "log_softmax"]


def maximum(a: Value | Number, b: Value | Number) -> Value:
    """The larger of a and b; at a tie each gets half the gradient."""
    return apply(OPS["maximum"], (a, b))


def minimum(a: Value | Number, b: Value | Number) -> Value:
    """The smaller of a and b; at a tie each gets half the gradient."""
    return apply(OPS["minimum"], (a, b))


def sum(values: Iterable[Value | Number]) -> Value:  # noqa: A001 - mirrors torch.sum / np.sum
    """One node for a whole sum (not a chain of additions).

    >>> sum([Value(1.0), 2, Value(3.0)]).data
    6.0
    """
    values = list(values)
    if not values:
        return Value(0.0)
    return apply(OPS["sum"], values)


def dot(
    weights: Sequence[Value | Number], inputs: Sequence[Value | Number], bias: Value | Number | None = None
) -> Value:
    """w·x + b as one node: a neuron's weighted sum.

    >>> dot([Value(2.0), Value(-1.0)], [3.0, 4.0], bias=0.5).data
    2.5
    """
    weights, inputs = list(weights), list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs; they must match")
    args = weights + inputs + ([] if bias is None else [bias])
    if not args:
        return Value(0.0)
    return apply(OPS["dot"], args)


def logsumexp(values: Iterable[Value | Number]) -> Value:
    """log(sum(exp(x_i))), shifted by the maximum so that inputs of 1000 do not overflow."""
    values = list(values)
    if not values:
        raise ValueError("logsumexp: needs at least one value, got an empty sequence")
    return apply(OPS["logsumexp"], values)


def log_softmax(values: Iterable[Value | Number]) -> list[Value]:
    """(x_i - max) - logsumexp(x - max): log-probabilities, exact for large inputs.

    Subtracting the maximum first keeps the digits that x_i - logsumexp(x) would round away
    (at 1e16 logsumexp(x) rounds to x, and softmax would give 1 for each of two equal inputs).
    The maximum is a node of the graph, not a number read from ``.data``, so a traced softmax
    stays right for every input; its gradient, -1 + sum of the probabilities, is 0 up to rounding.
    """
    nodes = [v if isinstance(v, Value) else Value(v) for v in values]
    if not nodes:
        raise ValueError("log_softmax: needs at least one value, got an empty sequence")
    top = _max_node(nodes)
    shifted = [v - top for v in nodes]
    lse = logsumexp(shifted)
    return [s - lse for s in shifted]


def _max_node(values: list[Value]) -> Value:
    # a balanced tree of maximum nodes: depth log2(n), so the tape's grouped replay stays wide
    level = values
    while len(level) > 1:
        pairs = [maximum(a, b) for a, b in zip(level[::2], level[1::2])]
        level = pairs + level[len(pairs) * 2:]
    return level[0]


def softmax(values: Iterable[Value | Number]) -> list[Value]:
    """exp((x_i - max) - logsumexp(x - max)): probabilities that sum to 1, exact for large inputs."""
    return [v.exp() for v in log_softmax(values)]
