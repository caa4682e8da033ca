"""The backward pass specialised to floats: a named optimisation of :func:`autograd.value.chain_rule`.

It computes what ``chain_rule`` computes on floats (read that one first), but for the common case
only (no create_graph, no detect_anomaly): it writes straight into ``.grad`` instead of a dict, runs
a built-in op's step generated from its partials rule (``op.float_step``, fastpath.py) and unpacks
fan-in 1 and 2 by hand for other ops.  This loop is most of a training step.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

from . import errors
from .backends import FLOAT
from .modes import refuse_in_own_work

__all__ = ["backward_floats"]


def backward_floats(nodes: Sequence[Any], root: Any, seed: float) -> None:
    """``root.backward(seed)`` on floats; ``nodes`` is the reverse topological order from ``root``.

    Interior gradients are reset (they hold this call's), leaves accumulate; if anything fails, the
    leaves get their gradients from before the call back.
    """
    refuse_in_own_work("the engine's backward loop")
    leaves = []
    for node in nodes:
        if node.fn is not None:
            node.grad = 0.0
        else:
            leaves.append((node, node.grad))
    m = FLOAT
    node = None
    try:
        root.grad = root.grad + seed
        for node in nodes:
            op = node.fn
            if op is None:
                continue
            g = node.grad
            step = op.float_step  # the built-in ops' partials as straight-line code (fastpath.py)
            if step is not None:
                step(node, g)
                continue
            ps = node.parents
            if len(ps) == 2:
                a, b = ps
                da, db = op.partials(m, node.data, a.data, b.data)
                a.grad += g * da
                b.grad += g * db
            elif len(ps) == 1:
                a = ps[0]
                (d,) = op.partials(m, node.data, a.data)  # unpacking checks the count, as for two
                a.grad += g * d
            else:
                ds = op.partials(m, node.data, *[p.data for p in ps])
                if len(ds) != len(ps):  # zip would drop the rest silently
                    raise TypeError("wrong count")
                for p, d in zip(ps, ds):
                    p.grad += g * d
        # Every gradient flows into leaves: a partial that is no real number (complex) shows up there,
        # so one type test per leaf checks every partial of this call.
        for leaf, before in leaves:
            if type(leaf.grad) is not float and not _still_real(leaf.grad, before):
                node = _first_unreal(nodes)
                raise TypeError(f"backward: a leaf's gradient became {errors.short(leaf.grad)}, no real number")
    except BaseException as e:
        for leaf, grad in leaves:  # never leave parameters with half a gradient
            leaf.grad = grad
        if node is None or node.fn is None or not isinstance(e, (ArithmeticError, ValueError, TypeError)):
            raise
        raise _explained(node, e) from None


def _still_real(grad: Any, before: Any) -> bool:
    """A leaf that held a real number must hold one still (a numpy float a rule gave is one); what a leaf
    held otherwise (a Value from ``create_graph=True``, accumulating) is checked where it is computed."""
    return isinstance(grad, numbers.Real) or not isinstance(before, numbers.Real)


def _first_unreal(nodes: Sequence[Any]) -> Any:
    """The first node, children first, whose partials are not a tuple of real numbers (None if none)."""
    for node in nodes:
        op = node.fn
        if op is not None and errors.partials_error(op, op.partials(FLOAT, node.data, *[p.data for p in node.parents]),
                                                     len(node.parents), on_floats=True):
            return node
    return None


def _explained(node: Any, error: Exception) -> Exception:
    """The failure at ``node`` in words: a partials rule returning the wrong thing, or a math error."""
    op, xs = node.fn, [p.data for p in node.parents]
    try:
        returned = op.partials(FLOAT, node.data, *xs)
    except (ArithmeticError, ValueError) as e:
        return errors.backward_error(op, xs, e)
    except TypeError:
        return error
    return errors.partials_error(op, returned, len(xs), on_floats=True) or error
