"""The backward pass specialised to floats: a named optimisation of :func:`autograd.value.chain_rule`.

It computes what ``chain_rule`` computes on floats (read that one first), but for the common case
only (no create_graph, no detect_anomaly): it writes straight into ``.grad`` instead of a dict and
unpacks fan-in 1 and 2 by hand, one table lookup per node.  This loop is most of a training step.
"""

from __future__ import annotations

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
            ps = node.parents
            if len(ps) == 2:
                a, b = ps
                da, db = op.partials(m, node.data, a.data, b.data)
                a.grad += g * da
                b.grad += g * db
            elif len(ps) == 1:
                a = ps[0]
                a.grad += g * op.partials(m, node.data, a.data)[0]
            else:
                ds = op.partials(m, node.data, *[p.data for p in ps])
                if len(ds) != len(ps):  # zip would drop the rest silently
                    raise TypeError("wrong count")
                for p, d in zip(ps, ds):
                    p.grad += g * d
    except BaseException as e:
        for leaf, grad in leaves:  # never leave parameters with half a gradient
            leaf.grad = grad
        if node is None or node.fn is None or not isinstance(e, (ArithmeticError, ValueError, TypeError)):
            raise
        raise _explained(node, e) from None


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
