"""The Value node: a number, its gradient, its parents and the op that made it (micrograd's idea).

Arithmetic builds a graph through :func:`apply`; ``backward()`` runs :func:`chain_rule` over it, reading the op table.
Two named optimisations do the same work faster, each checked equal: plain ``backward()`` runs fast_backward.py's
float copy of chain_rule (tests/autograd/test_backward_loops.py), and the operators of the built-in ops are
replaced by code fastpath.py generates from the op table's rules (tests/autograd/test_fastpath.py).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any, Callable, Container, Iterable

from . import errors
from .backends import FLOAT, plus, times
from .fast_backward import backward_floats
from .graph import topological_order
from .modes import OPEN_BLOCKS, STATE, refuse_in_own_work
from .table import OPS

if TYPE_CHECKING:
    from .ops import Op

__all__ = ["Value", "apply", "chain_rule", "Number"]

Number = float | int
_METHODS: list[str] = []  # Value's public names, for the hint of float(x) / math.f(x) (filled below)
SEQ = itertools.count()  # creation numbers, next(SEQ): creation order is a topological order (see graph.py)
_new = object.__new__


class Value:
    """A scalar that remembers how it was computed, so that its gradient can be found.

    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad          # dy/dx = 2x + 2
    8.0

    ``y.fn`` is the op that made ``y`` (None: a leaf).  ``<`` ``<=`` ``>`` ``>=`` compare ``.data``; ``==`` is identity;
    ``bool(x)`` is ``x.data != 0`` (as in PyTorch).  ``float(x)``, ``int(x)``, ``round(x)``, ``math.exp(x)`` raise
    TypeError (they would cut the graph): use ``x.exp()``, ``x.item()``.
    """

    # No __dict__, no per-node closure, no set of children: a node is a handful of pointers.
    __slots__ = ("data", "grad", "label", "fn", "parents", "_seq", "__weakref__")

    def __init__(self, data: Number, label: str = "", _op: str = "") -> None:
        if type(label) is not str or _op:  # micrograd's Value(data, (a, b), '+') lands here
            raise errors.not_a_leaf(label, _op)
        self.data = data if type(data) is float else errors.as_float(data, "Value")
        self.grad: Any = 0.0
        self.label = label
        self.fn: Op | None = None
        self.parents: tuple[Value, ...] = ()
        self._seq = next(SEQ)

    # --- operators and functions: each is an op of the table, applied (numbers allowed as inputs) ---
    def __add__(self, other: Value | Number) -> Value: return apply(OPS["add"], (self, other))
    def __radd__(self, other: Number) -> Value: return apply(OPS["add"], (other, self))
    def __sub__(self, other: Value | Number) -> Value: return apply(OPS["sub"], (self, other))
    def __rsub__(self, other: Number) -> Value: return apply(OPS["sub"], (other, self))
    def __mul__(self, other: Value | Number) -> Value: return apply(OPS["mul"], (self, other))
    def __rmul__(self, other: Number) -> Value: return apply(OPS["mul"], (other, self))
    def __truediv__(self, other: Value | Number) -> Value: return apply(OPS["div"], (self, other))
    def __rtruediv__(self, other: Number) -> Value: return apply(OPS["div"], (other, self))
    def __rpow__(self, base: Number) -> Value: return apply(OPS["pow"], (base, self))
    def __neg__(self) -> Value: return apply(OPS["neg"], (self,))
    def __pos__(self) -> Value: return self
    def __abs__(self) -> Value: return apply(OPS["abs"], (self,))
    def abs(self) -> Value: return apply(OPS["abs"], (self,))
    def exp(self) -> Value: return apply(OPS["exp"], (self,))
    def log(self) -> Value: return apply(OPS["log"], (self,))
    def sqrt(self) -> Value: return apply(OPS["sqrt"], (self,))
    def sin(self) -> Value: return apply(OPS["sin"], (self,))
    def cos(self) -> Value: return apply(OPS["cos"], (self,))
    def tanh(self) -> Value: return apply(OPS["tanh"], (self,))
    def sigmoid(self) -> Value: return apply(OPS["sigmoid"], (self,))
    def relu(self) -> Value: return apply(OPS["relu"], (self,))
    def selu(self) -> Value: return apply(OPS["selu"], (self,))
    def softplus(self) -> Value: return apply(OPS["softplus"], (self,))
    def leaky_relu(self, alpha: float = 0.01) -> Value: return OPS["leaky_relu"](self, alpha=alpha)
    def elu(self, alpha: float = 1.0) -> Value: return OPS["elu"](self, alpha=alpha)
    def swish(self, beta: Value | Number = 1.0) -> Value: return apply(OPS["swish"], (self, beta))

    def __pow__(self, n: Value | Number) -> Value:  # a number exponent is a parameter, a Value one an input
        return apply(OPS["pow"], (self, n)) if isinstance(n, Value) else apply(OPS["pow_const"].bind(n=n), (self,))

    # --- comparisons, numbers and what a node shows -----------------------------------------------------
    def __lt__(self, other: Value | Number) -> bool: return self.data < _number(other)
    def __le__(self, other: Value | Number) -> bool: return self.data <= _number(other)
    def __gt__(self, other: Value | Number) -> bool: return self.data > _number(other)
    def __ge__(self, other: Value | Number) -> bool: return self.data >= _number(other)

    def __bool__(self) -> bool: return self.data != 0.0  # as PyTorch: `if v:` tests the number (NaN is true)

    def item(self) -> float: return self.data  # the number (same as .data), named as in PyTorch
    def __float__(self) -> float: raise errors.not_a_float(_METHODS, "float")
    def __int__(self) -> int: raise errors.not_a_float(_METHODS, "int")
    def __round__(self, ndigits: int | None = None) -> Any: raise errors.not_a_float(_METHODS, "round")
    def __format__(self, spec: str) -> str: return format(self.data, spec) if spec else repr(self)  # f"{x:.3f}"

    def __repr__(self) -> str:
        name = f"{self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data!r}, grad={self.grad!r})"

    op = property(lambda self: "" if self.fn is None else self.fn.name, doc="The op's name ('' for a leaf).")
    op_label = property(lambda self: "" if self.fn is None else self.fn.label,
                        doc="The op as drawn: ``+``, ``tanh``, ``**2``, ``Σ`` ('' for a leaf).")
    is_leaf = property(lambda self: self.fn is None, doc="True for inputs, parameters and constants.")

    def draw(self, **kwargs: Any) -> Any:
        """Draw the graph that produced this value: same as ``autograd.draw_dot(self, **kwargs)``."""
        from .viz import draw_dot  # viz reads Values without importing this module: no circle
        return draw_dot(self, **kwargs)

    # --- micrograd's names, read-only: _prev (the set of parents), _op (the symbol), _backward ---------
    _prev = property(lambda self: set(self.parents), doc="micrograd's name: the set of parents.")
    _op = property(lambda self: self.op_label, doc="micrograd's name: the op's symbol ('' for a leaf).")

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's one-node step: add ``self.grad`` times each local derivative to the parents."""
        def step() -> None:
            for p, g in chain_rule([self], {self: self.grad}).items():
                if p is not self:
                    p.grad = p.grad + g
        return step

    @_backward.setter
    def _backward(self, fn: Any) -> None: raise AttributeError(errors.NO_BACKWARD_SLOT)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of the whole graph (and of gradients that are graphs), made in creation order without
        recursion: ``copy.deepcopy`` of a 20,000-node chain works as backward on it does."""
        from .copying import deep_copy  # copying reads Values without importing this module: no circle
        return deep_copy(self, memo)  # type: ignore[no-any-return]

    def detach(self) -> Value: return Value(self.data, self.label)  # a new leaf, cut off from the graph

    def backward(self, gradient: Number | Value = 1.0, create_graph: bool = False) -> None:
        """Fill ``.grad`` of every node this one depends on with d(self)/d(node), times ``gradient``.

        Interior nodes hold this call's gradient; leaves *accumulate* across calls, as in PyTorch, and a failed
        backward changes none.  With ``create_graph=True`` a leaf's gradient is a Value (differentiable again).
        """
        refuse_in_own_work("Value.backward")
        nodes = topological_order(self, reverse=True)
        if not (create_graph or STATE.anomaly):
            return backward_floats(nodes, self, errors.as_float(gradient, "backward"))  # chain_rule, faster
        seed = gradient if create_graph and isinstance(gradient, Value) else errors.as_float(gradient, "backward")
        grads = chain_rule(nodes, {self: Value(seed) if create_graph and type(seed) is float else seed}, create_graph)
        for node in nodes:  # written only now, when nothing can fail any more; interior nodes keep numbers
            g = grads.get(node, 0.0)
            node.grad = plus(node.grad, g) if node.fn is None else (g.data if isinstance(g, Value) else g)


def apply(op: Op, inputs: Iterable[Value | Number]) -> Value:
    """The node ``op(*inputs)``, the one place where a Value gets parents; numbers become constant
    leaves.  A math error in the forward rule names the op and its operands, and makes no node."""
    ps: tuple[Any, ...] = inputs if type(inputs) is tuple else errors.as_inputs(op, inputs)
    xs: list[float] | None = None  # the operands as floats, numbers checked
    try:
        xs = [p.data if isinstance(p, Value) else errors.as_float(p, op.symbol) for p in ps]
        if op.arity is not None and len(ps) != op.arity:
            raise errors.arity_error(op, len(ps))
        data = op.forward(FLOAT, *xs)
    except (ArithmeticError, ValueError, TypeError, AttributeError) as e:
        raise errors.forward_failure(op, ps, e, xs) from None
    if type(data) is not float:  # a user's rule may return an int, a complex number, None ...: one test on floats
        data = errors.real_result(op, data, xs)
    if STATE.record or STATE.anomaly:  # numbers become leaves, unless no node is made
        ps = tuple([p if isinstance(p, Value) else _node(x, None, ()) for p, x in zip(ps, xs)])
    if OPEN_BLOCKS[0] and not STATE.plain:  # inside no_grad or detect_anomaly
        if STATE.anomaly and not math.isfinite(data):
            raise errors.anomalous_value(op, data, ps)
        if not STATE.record:
            return Value(data)
    return _node(data, op, ps)


def _node(data: float, op: Op | None, parents: tuple[Any, ...]) -> Value:
    """Value.__init__'s work without its checks (apply has made ``data`` a float): a node, or a constant leaf."""
    v = _new(Value)
    v.data, v.grad, v.label, v.fn, v.parents, v._seq = data, 0.0, "", op, parents, next(SEQ)
    return v


def chain_rule(nodes: Iterable[Value], grads: dict[Value, Any], create_graph: bool = False,
               only: Container[Value] | None = None) -> dict[Value, Any]:
    """The chain rule, written once: for each node (children first) add grads[node] * d node/d parent to grads[parent];
    returns ``grads`` (with the seeds).  ``create_graph``: local derivatives as Values; ``only``: the parents served."""
    refuse_in_own_work("the engine's chain rule")
    for node in nodes:
        g = grads.get(node)
        if node.fn is None or g is None:
            continue
        for p, d in zip(node.parents, node.fn.derivatives(node, create_graph)):
            if only is not None and p not in only:
                continue
            if type(d) is float and d == 0.0 and math.isfinite(_number(g)):  # a constant 0 (relu' left of 0):
                grads.setdefault(p, 0.0)  # no node, yet a 0 that meets an infinite derivative further up is NaN
                continue
            term = g if type(d) is float and d == 1.0 else times(g, d)  # built-in mul and add: the chain rule's
            grads[p] = term if p not in grads else plus(grads[p], term)
            if STATE.anomaly and not math.isfinite(_number(grads[p])):
                raise errors.anomalous_gradient(node, p, grads[p])
    return grads


def _number(x: Value | Number) -> Number:
    return x.data if isinstance(x, Value) else x


_METHODS.extend(n for n in dir(Value) if not n.startswith("_"))
