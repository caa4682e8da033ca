"""Forward mode: ``jvp`` and ``jacfwd``, tangents pushed through the op table's own partials.

Reverse mode (``grad``, ``jacobian``) carries d(output)/d(node) from the output back to the inputs;
forward mode carries d(node)/d(inputs) · v, a *tangent*, from the inputs to the outputs, in
creation order: a node's tangent is ``Σ_i partial_i · tangent(parent_i)`` with the same
``partials`` the backward pass reads.  No derivative is written a second time.

>>> from autograd import jvp, jacfwd
>>> jvp(lambda x, y: x * y + y, (3.0, 4.0), (1.0, 0.0))   # d/dx at (3, 4): y
(16.0, 4.0)
>>> jacfwd(lambda x, y: [x * y, x + y])(2.0, 3.0)
[[3.0, 2.0], [1.0, 1.0]]

One forward sweep gives J·v for one direction v, so the full Jacobian of f: R^n -> R^m costs n
sweeps here against m backward sweeps in reverse mode.  Called with Values, or inside another
transform, the partials are evaluated on the Value backend and the tangent is itself a graph:
``jvp(grad(f), (x,), (v,))`` is the Hessian-vector product (forward-over-reverse).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from . import ops
from .backends import plus, times
from .errors import call_text
from .functional import (
    check_argnums,
    contains_value,
    evaluate,
    finish,
    fn_name,
    is_number,
    scalar_output,
    sequence_output,
)
from .graph import topological_order
from .modes import enable_grad, refuse_in_own_work
from .value import Value

__all__ = ["jvp", "jacfwd", "tangents", "op_of"]

_MATH_ERRORS = (ArithmeticError, ValueError)


def op_of(v: Value) -> ops.Op | None:
    """The op that made ``v`` (None for a leaf): the one place this module reads a node's op."""
    return v.fn


# --- the forward sweep -----------------------------------------------------------------------------
def tangents(
    outputs: Sequence[Value | float], inputs: Sequence[Value], input_tangents: Sequence[Any],
    create_graph: bool = False,
) -> list[Any]:
    """d(output) in the direction ``input_tangents``, for each output: one sweep in creation order.

    The counterpart of :func:`autograd.functional.gradients`: inputs may be leaves or interior
    nodes (an input's tangent is added to whatever flows into it), and with ``create_graph=True``
    the partials are evaluated on Values, so each tangent is a Value that can be differentiated.
    """
    return _sweep(_sweep_order(outputs), outputs, inputs, input_tangents, create_graph, "tangents")


def _sweep_order(outputs: Sequence[Any]) -> list[Value]:
    """The nodes a forward sweep visits, parents first; refused inside own_work before any graph walk, so
    the message names forward mode, the entry the student called."""
    refuse_in_own_work("autograd's forward mode (jvp, jacfwd, tangents)")
    return topological_order([o for o in outputs if isinstance(o, Value)])


def _sweep(order: list[Value], outputs: Sequence[Any], inputs: Sequence[Value], input_tangents: Sequence[Any],
           create_graph: bool, where: str) -> list[Any]:
    seeds: dict[Value, Any] = {}
    for x, t in zip(inputs, input_tangents):
        seeds[x] = t if x not in seeds else plus(seeds[x], t)
    tan: dict[Value, Any] = {}  # only nodes that depend on an input carry a tangent
    for node in order:
        op = op_of(node)
        ps = node.parents
        t = None
        if op is not None and any(p in tan for p in ps):
            try:  # the op table's partials: numbers, or with create_graph Values (graphs)
                ds = op.derivatives(node, create_graph)
            except _MATH_ERRORS as e:
                raise type(e)(f"{where}: the derivative of {call_text(op, [p.data for p in ps])} is undefined "
                              f"here") from None
            except TypeError as e:  # a rule that cannot run on Values (no second derivative), or is malformed
                raise type(e)(f"{where}: {e}") from None
            for p, d in zip(ps, ds):
                tp = tan.get(p)
                if tp is None:
                    continue
                if create_graph and type(d) is float and d == 0.0 and math.isfinite(_number(tp)):
                    continue  # a constant 0 (a step, relu off) adds nothing, and no node
                term = tp if type(d) is float and d == 1.0 else times(tp, d)  # built-in mul and add
                t = term if t is None else plus(t, term)
            if t is None:
                t = 0.0
        seed = seeds.get(node)
        if seed is not None:
            t = seed if t is None else plus(t, seed)
        if t is not None:
            tan[node] = t
    return [tan.get(o, 0.0) if isinstance(o, Value) else 0.0 for o in outputs]


def _number(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


# --- jvp ----------------------------------------------------------------------------------------------
def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J v)``: the value of ``f`` and its derivative in the direction ``tangents``.

    ``primals`` is the tuple of ``f``'s arguments, each a scalar or a sequence of scalars (as for
    :func:`autograd.grad`); ``tangents`` has the same shape.  ``f`` returns a scalar (the tangent
    is a scalar) or a sequence of scalars (a list of tangents, one per output).

    >>> jvp(lambda xs: [xs[0] * xs[1], xs[0].exp()], ([2.0, 3.0],), ([1.0, 1.0],))
    ([6.0, 7.38905609893065], [5.0, 7.38905609893065])
    """
    if not callable(f):
        raise TypeError(f"jvp: f must be callable, got {type(f).__name__} {f!r:.60}")
    primals, flat_t = _check_primals_and_tangents(primals, tangents)
    with enable_grad():
        nested, flat, _, out = evaluate(f, tuple(primals), None, "jvp")
        nested = nested or contains_value(list(tangents))
        single = not isinstance(out, (list, tuple))
        outs = [scalar_output(out, "jvp")] if single else sequence_output(out, "jvp")
        ts = _sweep(_sweep_order(outs), outs, flat, flat_t, nested, "jvp")
    values = [finish(o, nested) for o in outs]
    ts = [finish(t, nested) for t in ts]
    return (values[0], ts[0]) if single else (values, ts)


def _check_primals_and_tangents(primals: Any, tangents: Any) -> tuple[list, list]:
    """The arguments as a list and the tangents flattened in the order of the arguments' scalars."""
    for name, x in (("primals", primals), ("tangents", tangents)):
        if not isinstance(x, (list, tuple)):
            raise TypeError(
                f"jvp: {name} must be a tuple with one entry per argument of f, got {type(x).__name__} "
                f"{x!r:.60} (for one argument write ({x!r:.40},))"
            )
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: tangents must match primals, one per argument: got {len(tangents)} tangent(s) "
                         f"for {len(primals)} primal(s)")
    flat: list[Any] = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                raise ValueError(f"jvp: tangents[{i}] must be a sequence of {len(p)} scalars like primals[{i}], "
                                 f"got {t!r:.60}")
            items = [(f"tangents[{i}][{j}]", tj) for j, tj in enumerate(t)]
        else:
            items = [(f"tangents[{i}]", t)]
        for name, tj in items:
            if not (is_number(tj) or isinstance(tj, Value)):
                raise TypeError(f"jvp: {name} must be a number or a Value, got {type(tj).__name__} {tj!r:.60}")
            flat.append(tj if isinstance(tj, Value) else float(tj))
    return list(primals), flat


# --- jacfwd -------------------------------------------------------------------------------------------
def jacfwd(f: Callable, argnums: int | tuple[int, ...] | None = None) -> Callable:
    """The Jacobian by forward mode, one sweep per input scalar: equal to :func:`autograd.jacobian`.

    Same conventions as ``jacobian`` (an m x n nested list, one column per scalar of the arguments
    that ``argnums`` picks, default all).  Forward mode pays per input, reverse mode per output: use
    ``jacfwd`` for tall Jacobians (few inputs, many outputs), ``jacrev`` for wide ones.

    >>> jacfwd(lambda x: [x, x * x, x ** 3])(2.0)
    [[1.0], [4.0], [12.0]]
    """
    spec = check_argnums(argnums, "jacfwd")

    def jacfwd_f(*args: Any) -> list[list[Any]]:
        with enable_grad():
            nested, flat, _, out = evaluate(f, args, spec, "jacfwd")
            outs = sequence_output(out, "jacfwd")
            order = _sweep_order(outs)  # shared by the n sweeps
            # Seeding only x_j: the sweep for column j visits the nodes that depend on x_j.
            columns = [_sweep(order, outs, [x], [1.0], nested, "jacfwd") for x in flat]
        return [[finish(col[i], nested) for col in columns] for i in range(len(outs))]

    jacfwd_f.__name__ = f"jacfwd({fn_name(f)})"
    jacfwd_f.__doc__ = f"Jacobian of {fn_name(f)} by forward mode."
    return jacfwd_f
