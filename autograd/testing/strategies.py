"""Hypothesis strategies for property-based tests of code built on chalkgrad (needs ``hypothesis``).

Paste into a test file of your own::

    from hypothesis import given, settings
    from autograd.testing import gradcheck, gradgradcheck
    from autograd.testing.strategies import expressions, values

    @settings(max_examples=50, deadline=None)
    @given(expressions(n_inputs=3, max_nodes=8))
    def test_random_graphs_have_right_derivatives(case: Any) -> Any:
        f, inputs = case            # f(*inputs) -> Value; inputs: list of floats
        assert gradcheck(f, inputs)
        assert gradgradcheck(f, inputs)

    @given(values(-3, 3))
    def test_tanh_is_odd(x: Any) -> Any:
        assert (-x).tanh().data == -x.tanh().data

``expressions`` draws a random graph over the ops of :data:`autograd.ops.OPS` (or those named in
``ops=``), reusing nodes so that the graph is a DAG rather than a tree.  Every op is applied only
where it is safely inside its domain: its value is at most 1e4 and its local derivatives at most
1e3 in size (which keeps it away from poles such as 1/x at 0), its forward and derivative rules
still work a distance ``MARGIN`` away in each input (so log and sqrt see at least ``MARGIN``), and
no non-smooth primitive (``step``, ``maximum``, ``minimum``) is within ``MARGIN`` of its kink.
Hence finite differences with a small ``eps`` never cross a kink or leave the domain.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

import hypothesis.strategies as st

from .. import ops as op_table
from ..backends import FLOAT
from ..value import Value, apply

__all__ = ["values", "expressions", "Expression", "MARGIN"]

MARGIN = 0.05  # distance kept from a domain edge or a kink, in each op's own inputs
_MAX_VALUE = 1e4  # bound on every node's value
_MAX_PARTIAL = 1e3  # bound on every local derivative: keeps away from singularities like 1/x at 0
_EXPONENTS = (2.0, 3.0, 4.0, -1.0, -2.0, 0.5, 1.5)
_PARAMS = (0.01, 0.1, 0.5, 1.0, 1.7)


def values(min_value: float = -3.0, max_value: float = 3.0, label: str = "") -> st.SearchStrategy[Value]:
    """Leaf Values with finite data in ``[min_value, max_value]``.

    >>> from hypothesis import given
    >>> @given(values(-1, 1))
    ... def test(x):
    ...     assert -1 <= x.data <= 1
    """
    floats = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return floats.map(lambda x: Value(x, label=label))


class Expression:
    """A random expression graph: ``steps`` applied in order to the inputs; the last node is the output.

    Call it like a function of ``n_inputs`` scalars (Values or numbers).  :meth:`evaluate` runs the
    op table's forward rules on any backend (e.g. one made of torch functions, to compare with
    another framework).
    """

    def __init__(self, n_inputs: int, steps: Sequence[tuple[op_table.Op, tuple[int, ...]]]) -> None:
        self.n_inputs = n_inputs
        self.steps = list(steps)

    def __call__(self, *inputs: Any) -> Any:
        self._check(inputs)
        nodes = list(inputs)
        for op, idx in self.steps:
            nodes.append(apply(op, [nodes[i] for i in idx]))
        return nodes[-1]

    def evaluate(self, m: Any, *inputs: Any) -> Any:
        """The same expression computed with backend ``m``'s elementary functions."""
        self._check(inputs)
        nodes = list(inputs)
        for op, idx in self.steps:
            nodes.append(op.forward(m, *[nodes[i] for i in idx]))
        return nodes[-1]

    @property
    def ops(self) -> list[str]:
        """Names of the ops used, in order."""
        return [op.name for op, _ in self.steps]

    def _check(self, inputs: tuple) -> None:
        if len(inputs) != self.n_inputs:
            raise TypeError(f"Expression: takes {self.n_inputs} input(s), got {len(inputs)}")

    def __repr__(self) -> str:
        name = [f"x{i}" for i in range(self.n_inputs)]
        lines = []
        for op, idx in self.steps:
            call = op.name + (
                "[" + ", ".join(f"{k}={v:g}" for k, v in op.bound) + "]" if op.bound else ""
            )
            name.append(f"v{len(name)}")
            lines.append(f"{name[-1]} = {call}({', '.join(name[i] for i in idx)})")
        return f"Expression(({', '.join(name[:self.n_inputs])}) -> {name[-1]}: {'; '.join(lines)})"


def _safe(op: op_table.Op, args: list[float]) -> float | None:
    """The op's value at ``args`` if the op is safely inside its domain there, else None."""
    gap = [math.inf]

    def near(a: float, b: float) -> None:
        gap[0] = min(gap[0], abs(a - b))

    def step(a: Any, b: Any = 0.0, tie: Any = 0.0) -> Any:
        near(a, b)
        return FLOAT.step(a, b, tie)

    def maximum(a: Any, b: Any) -> Any:
        near(a, b)
        return FLOAT.maximum(a, b)

    def minimum(a: Any, b: Any) -> Any:
        near(a, b)
        return FLOAT.minimum(a, b)

    def select(x: Any, pos: Any, neg: Any) -> Any:
        near(x, 0.0)
        return FLOAT.select(x, pos, neg)

    probe = SimpleNamespace(**{**vars(FLOAT), "step": step, "select": select, "maximum": maximum,
                               "minimum": minimum})
    try:
        out = op.forward(probe, *args)
        ds = op.partials(probe, out, *args)
        if not _moderate(out, _MAX_VALUE) or not all(_moderate(d, _MAX_PARTIAL) for d in ds):
            return None
        if gap[0] < MARGIN:
            return None
        for j in range(len(args)):
            for delta in (-MARGIN, MARGIN):
                moved = list(args)
                moved[j] += delta
                near_out = op.forward(FLOAT, *moved)
                if not _moderate(near_out, 10 * _MAX_VALUE):
                    return None
                if not all(_moderate(d, 10 * _MAX_PARTIAL) for d in op.partials(FLOAT, near_out, *moved)):
                    return None
    except (ArithmeticError, ValueError, TypeError):
        return None
    return float(out)


def _moderate(x: Any, bound: float) -> bool:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return False
    return math.isfinite(x) and abs(x) <= bound


def _op_list(ops: Iterable[str | op_table.Op] | None) -> list[op_table.Op]:
    if ops is None:
        return [op_table.OPS[name] for name in sorted(op_table.OPS)]
    chosen = [op if isinstance(op, op_table.Op) else op_table.get(op) for op in ops]
    if not chosen:
        raise ValueError("expressions: ops is empty; name at least one op")
    return chosen


def expressions(
    n_inputs: int = 2,
    max_nodes: int = 8,
    ops: Iterable[str | op_table.Op] | None = None,
    min_value: float = -2.0,
    max_value: float = 2.0,
) -> st.SearchStrategy[tuple[Expression, list[float]]]:
    """``(f, inputs)``: a random expression of ``n_inputs`` scalars with up to ``max_nodes`` op nodes.

    ``ops`` restricts the ops (names or Op objects; default: every op in ``autograd.ops.OPS`` when
    drawing); parametrised ops get a drawn exponent or alpha.  ``inputs`` are floats in
    ``[min_value, max_value]``; ``gradcheck(f, inputs)`` is ready to run.
    """
    if n_inputs < 1 or max_nodes < 1:
        raise ValueError(f"expressions: needs n_inputs >= 1 and max_nodes >= 1, got {n_inputs}, {max_nodes}")
    if not min_value <= max_value:
        raise ValueError(f"expressions: min_value {min_value!r} is above max_value {max_value!r}")
    table = None if ops is None else _op_list(ops)  # unknown names fail here, not mid-test
    return _expressions(n_inputs, max_nodes, table, min_value, max_value)


@st.composite
def _expressions(
    draw: Any, n_inputs: int, max_nodes: int, table: list[op_table.Op] | None, min_value: float, max_value: float
) -> tuple[Expression, list[float]]:
    table = table if table is not None else _op_list(None)
    floats = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    data = [draw(floats) for _ in range(n_inputs)]
    inputs = list(data)
    steps: list[tuple[op_table.Op, tuple[int, ...]]] = []
    for _ in range(draw(st.integers(1, max_nodes))):
        for _attempt in range(6):  # an op out of its domain here: draw another rather than reject
            op = draw(st.sampled_from(table))
            if op.params:
                op = op.bind(**{
                    p: draw(st.sampled_from(_EXPONENTS if p == "n" else _PARAMS)) for p in op.params
                })
            count = op.arity if op.arity is not None else draw(st.integers(2, 4))
            last = len(data) - 1
            # The first operand is often the newest node, so graphs grow deep as well as wide.
            idx = (draw(st.one_of(st.just(last), st.integers(0, last))),) + tuple(
                draw(st.integers(0, last)) for _ in range(count - 1)
            )
            out = _safe(op, [data[i] for i in idx])
            if out is not None:
                steps.append((op, idx))
                data.append(out)
                break
    return Expression(n_inputs, steps), inputs
