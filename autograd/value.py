"""The Value node: one float, its gradient, its parents and the op that made it.

Arithmetic on Values builds a graph; ``backward()`` walks it once in reverse topological order and
applies the chain rule, reading each node's local derivatives from the op table (:mod:`.ops`).
"""

from __future__ import annotations

import itertools
import math
import numbers
from typing import Any, Iterable

from . import ops
from .backends import FLOAT, VALUE
from .errors import backward_error, forward_error
from .graph import topological_order
from .modes import OPEN_BLOCKS, STATE, AnomalyError
from .ops import (  # the primitives, as globals: one lookup fewer per operation
    ABS,
    ADD,
    COS,
    DIV,
    DOT,
    ELU,
    EXP,
    LEAKY_RELU,
    LOG,
    MAXIMUM,
    MINIMUM,
    MUL,
    NEG,
    POW,
    POW_CONST,
    RELU,
    SELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    SUM,
    SWISH,
    TANH,
)

__all__ = ["Value"]

Number = float | int
_next_seq = itertools.count().__next__  # creation order is a topological order
_MATH_ERRORS = (ArithmeticError, ValueError)


class Value:
    """A scalar that remembers how it was computed, so its gradient can be found.

    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad          # dy/dx = 2x + 2
    8.0
    """

    # No __dict__, no per-node closure, no set of children: a node is a handful of pointers.
    __slots__ = ("data", "grad", "label", "_op", "parents", "_seq", "__weakref__")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = data if type(data) is float else _as_float(data, "Value")
        self.grad: Any = 0.0
        self.label = label if type(label) is str else _bad_label(label)
        self._op: ops.Op | None = None
        self.parents: tuple[Value, ...] = ()
        self._seq = _next_seq()

    # --- what a node shows -----------------------------------------------------------------
    @property
    def op(self) -> str:
        """Name of the op that made this node ("" for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def op_label(self) -> str:
        """The op as drawn: ``+``, ``tanh``, ``**2``, ``Σ`` ("" for a leaf)."""
        return "" if self._op is None else self._op.label

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: nodes no op produced."""
        return self._op is None

    def __repr__(self) -> str:
        name = f"{self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data!r}, grad={self.grad!r})"

    def __float__(self) -> float:
        return self.data

    # --- arithmetic (numbers allowed on either side) ---------------------------------------
    def __add__(self, other: Value | Number) -> Value:
        return _apply2(ADD, self, other if type(other) is Value else _lift(other, "+"))

    def __radd__(self, other: Number) -> Value:
        return _apply2(ADD, _lift(other, "+"), self)

    def __sub__(self, other: Value | Number) -> Value:
        return _apply2(SUB, self, other if type(other) is Value else _lift(other, "-"))

    def __rsub__(self, other: Number) -> Value:
        return _apply2(SUB, _lift(other, "-"), self)

    def __mul__(self, other: Value | Number) -> Value:
        return _apply2(MUL, self, other if type(other) is Value else _lift(other, "*"))

    def __rmul__(self, other: Number) -> Value:
        return _apply2(MUL, _lift(other, "*"), self)

    def __truediv__(self, other: Value | Number) -> Value:
        return _apply2(DIV, self, other if type(other) is Value else _lift(other, "/"))

    def __rtruediv__(self, other: Number) -> Value:
        return _apply2(DIV, _lift(other, "/"), self)

    def __neg__(self) -> Value:
        return _apply1(NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply1(ABS, self)

    def __pow__(self, exponent: Value | Number) -> Value:
        if isinstance(exponent, Value):
            return _apply2(POW, self, exponent)  # a positive base only: see ops.POW
        return _apply1(POW_CONST.bind(n=_as_float(exponent, "**")), self)

    def __rpow__(self, base: Number) -> Value:
        return _apply2(POW, _lift(base, "**"), self)

    # --- elementary functions and activations ----------------------------------------------
    def exp(self) -> Value:
        return _apply1(EXP, self)

    def log(self) -> Value:
        return _apply1(LOG, self)

    def sqrt(self) -> Value:
        return _apply1(SQRT, self)

    def abs(self) -> Value:
        """|x|, with abs'(0) = 0."""
        return _apply1(ABS, self)

    def sin(self) -> Value:
        return _apply1(SIN, self)

    def cos(self) -> Value:
        return _apply1(COS, self)

    def tanh(self) -> Value:
        return _apply1(TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), computed without overflow for any x."""
        return _apply1(SIGMOID, self)

    def relu(self) -> Value:
        """max(x, 0), with relu'(0) = 0."""
        return _apply1(RELU, self)

    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """x for x > 0, alpha * x otherwise."""
        return _apply1(LEAKY_RELU.bind(alpha=_as_float(alpha, "leaky_relu")), self)

    def elu(self, alpha: float = 1.0) -> Value:
        """x for x > 0, alpha * (e^x - 1) otherwise."""
        return _apply1(ELU.bind(alpha=_as_float(alpha, "elu")), self)

    def selu(self) -> Value:
        """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
        return _apply1(SELU, self)

    def softplus(self) -> Value:
        """log(1 + e^x), stable for large |x|."""
        return _apply1(SOFTPLUS, self)

    def swish(self, beta: Value | Number = 1.0) -> Value:
        """x * sigmoid(beta * x); pass a Value as ``beta`` to train it."""
        return _apply2(SWISH, self, _lift(beta, "swish"))

    def draw(self, **kwargs: Any) -> Any:
        """Draw the graph that produced this value: same as ``autograd.draw_dot(self, **kwargs)``."""
        from .viz import draw_dot

        return draw_dot(self, **kwargs)

    # --- gradients --------------------------------------------------------------------------
    def detach(self) -> Value:
        """A new leaf with the same number and label, cut off from this graph."""
        return Value(self.data, self.label)

    def backward(self, gradient: Number | Value = 1.0, create_graph: bool = False) -> None:
        """Fill ``.grad`` of every node this one depends on with d(self)/d(node), times ``gradient``.

        Interior nodes hold the gradient of this call; leaves (inputs, parameters) *accumulate*
        across calls, as in PyTorch, until reset with ``zero_grad``.  With ``create_graph=True``
        the gradients are themselves Values, so they can be differentiated again; only leaves keep
        them as Values (interior nodes get the number), because an interior node's gradient graph
        runs through the node itself and would form a reference cycle.  A leaf's does too: set
        ``x.grad = 0.0`` when done with it (or use :func:`autograd.grad`, which touches no ``.grad``).
        """
        nodes = topological_order(self, reverse=True)
        leaves = []  # with their gradients before this call: a failed backward puts them back
        for node in nodes:
            if node._op is not None:
                node.grad = 0.0
            else:
                leaves.append((node, node.grad))
        if create_graph:
            seed = gradient if isinstance(gradient, Value) else Value(_as_float(gradient, "backward"))
        else:
            seed = _as_float(gradient, "backward")
        try:
            self.grad = self.grad + seed
            if create_graph or STATE.anomaly:
                _backward_general(nodes, create_graph, STATE.anomaly)
            else:
                _backward_floats(nodes)
        except BaseException:
            for leaf, grad in leaves:  # never leave parameters with half a gradient
                leaf.grad = grad
            raise
        finally:  # an interior Value gradient would be a reference cycle through its own node
            if create_graph:
                for node in nodes:
                    if node._op is not None and type(node.grad) is Value:
                        node.grad = node.grad.data


# --- building nodes ------------------------------------------------------------------------------
_new = object.__new__


def _node(data: float, op: ops.Op | None, parents: tuple[Value, ...]) -> Value:
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._op = op
    v.parents = parents
    v._seq = _next_seq()
    return v


def _apply1(op: ops.Op, x: Value) -> Value:
    try:
        data = op.forward(FLOAT, x.data)
    except _MATH_ERRORS as e:
        raise _domain_error(e, op, (x,)) from None
    if OPEN_BLOCKS[0] and not STATE.plain:
        return _checked_node(data, op, (x,))
    v = _new(Value)  # _node, inlined: this is the hot path of every forward pass
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._op = op
    v.parents = (x,)
    v._seq = _next_seq()
    return v


def _apply2(op: ops.Op, a: Value, b: Value) -> Value:
    try:
        data = op.forward(FLOAT, a.data, b.data)
    except _MATH_ERRORS as e:
        raise _domain_error(e, op, (a, b)) from None
    if OPEN_BLOCKS[0] and not STATE.plain:
        return _checked_node(data, op, (a, b))
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._op = op
    v.parents = (a, b)
    v._seq = _next_seq()
    return v


def apply(op: ops.Op, inputs: Iterable[Value | Number]) -> Value:
    """Apply any op from the table to Values or numbers (n-ary ops take any count)."""
    args = tuple(_lift(x, op.name) for x in inputs)
    if op.arity is not None and len(args) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} input(s), got {len(args)}")
    try:
        data = op.forward(FLOAT, *[a.data for a in args])
    except _MATH_ERRORS as e:
        raise _domain_error(e, op, args) from None
    return _checked_node(float(data), op, args)


def _checked_node(data: float, op: ops.Op, parents: tuple[Value, ...]) -> Value:
    """The slow path: inside no_grad (no parents kept) or detect_anomaly (values checked)."""
    if STATE.anomaly and not math.isfinite(data):
        raise AnomalyError(f"{op.name} produced {data!r} from {_describe(parents)}")
    if not STATE.record:
        return Value(data)
    return _node(data, op, parents)


# --- backward --------------------------------------------------------------------------------------
def _backward_floats(nodes: list[Value]) -> None:
    """Chain rule on plain floats: the hot loop, specialised by fan-in, one table lookup per node."""
    m = FLOAT
    node = None
    try:
        for node in nodes:
            op = node._op
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
                for p, d in zip(ps, op.partials(m, node.data, *[p.data for p in ps])):
                    p.grad += g * d
    except _MATH_ERRORS as e:
        raise _backward_error(e, node) from None


def _backward_general(nodes: list[Value], create_graph: bool, anomaly: bool) -> None:
    """Chain rule on Values (create_graph: the gradients get graphs) and/or with anomaly checks."""
    m = VALUE if create_graph else FLOAT
    node = None
    try:
        for node in nodes:
            op = node._op
            if op is None:
                continue
            g = node.grad
            ps = node.parents
            if create_graph:
                ds = op.partials(m, node, *ps)
            else:
                ds = op.partials(m, node.data, *[p.data for p in ps])
            for p, d in zip(ps, ds):
                p.grad = p.grad + g * d
                if anomaly and not math.isfinite(float(p.grad)):
                    raise anomalous_gradient(node, p, p.grad)
    except AnomalyError:
        raise
    except _MATH_ERRORS as e:
        raise _backward_error(e, node) from None


def anomalous_gradient(node: Value, parent: Value, grad: Any) -> AnomalyError:
    """The error detect_anomaly raises when backward through ``node`` gives ``parent`` a non-finite gradient."""
    return AnomalyError(
        f"backward through {node.op} (label {node.label!r}, inputs {_describe(node.parents)}) "
        f"gave a non-finite gradient {grad!r} for {parent!r}"
    )


# --- conversions and messages -----------------------------------------------------------------
def _as_float(x: Any, where: str) -> float:
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        return _real_to_float(x, where)
    if isinstance(x, Value):
        raise TypeError(f"{where}: expected a number here, got {x!r} (use .data for its number)")
    raise TypeError(f"{where}: expected a real number, got {type(x).__name__} {_short(x)}")


def _lift(x: Any, where: str) -> Value:
    if isinstance(x, Value):
        return x
    if type(x) is float:  # a constant leaf: a number, so no __init__ checks
        return _node(x, None, ())
    if isinstance(x, numbers.Real):
        return _node(_real_to_float(x, where), None, ())
    raise TypeError(f"{where}: expected a Value or a real number, got {type(x).__name__} {_short(x)}")


def _real_to_float(x: Any, where: str) -> float:
    try:
        return float(x)
    except OverflowError:  # an int (or Fraction) beyond the float range
        raise OverflowError(f"{where}: {_short(x)} is too large for a float") from None


def _bad_label(label: Any) -> str:
    raise TypeError(f"Value: label must be a str, got {type(label).__name__} {_short(label)}")


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(values: Iterable[Value]) -> str:
    return ", ".join(f"{v.label or v.op or 'leaf'}={v.data!r}" for v in values)


def _domain_error(error: Exception, op: ops.Op, inputs: tuple[Value, ...]) -> Exception:
    return forward_error(op, [v.data for v in inputs], error)


def _backward_error(error: Exception, node: Value | None) -> Exception:
    if node is None or node._op is None:
        return error
    return backward_error(node._op, [p.data for p in node.parents], error)


# The VALUE backend: the op table's rules evaluated on Values build graphs (create_graph=True).
def _data(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else x


VALUE.__dict__.update(
    exp=Value.exp,
    log=Value.log,
    sqrt=Value.sqrt,
    tanh=Value.tanh,
    sin=Value.sin,
    cos=Value.cos,
    abs=Value.abs,
    sigmoid=Value.sigmoid,
    # x**0 is the constant 1 and x**1 is x: no node, so x**2 differentiates to 2*x, then 2, then 0
    # everywhere (a node x**0 would have the derivative 0 * x**-1, undefined at 0).
    pow=lambda x, n: 1.0 if n == 0.0 else (x if n == 1.0 else x ** n),
    step=lambda a, b=0.0, tie=0.0: FLOAT.step(_data(a), _data(b), tie),
    maximum=lambda a, b: apply(MAXIMUM, (a, b)),
    minimum=lambda a, b: apply(MINIMUM, (a, b)),
    sum=lambda xs: apply(SUM, xs),
    sumprod=lambda w, x: apply(DOT, (*w, *x)),
    select=lambda x, pos, neg: FLOAT.select(_data(x), pos, neg),
    max=lambda xs: next((x for x in xs if _data(x) != _data(x)), None) or max(xs, key=_data),
    log1p=lambda x: (1.0 + x).log(),
    expm1=lambda x: x.exp() - 1.0,
    pow_positive=lambda a, b: a ** b,
    finite_or=lambda x, default: x if math.isfinite(_data(x)) else default,
)
