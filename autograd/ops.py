"""The op table: every primitive's forward rule and local derivative, written once.

Each rule is a plain function whose first argument ``m`` is a *backend*: a namespace of elementary
functions (``m.exp``, ``m.log``, ``m.step`` ...).  The same rule therefore runs

* on floats      (eager forward and backward),                      backend ``backends.FLOAT``
* on Values      (backward with ``create_graph=True``: derivatives of derivatives),
* on numpy arrays (the tape's batch evaluator),
* on symbols     (the tape's generated source code),

and a derivative formula such as tanh's ``1 - out*out`` never needs a second copy.

``forward(m, *inputs)`` returns the output; ``partials(m, out, *inputs)`` returns a tuple with one
local derivative d(out)/d(input_i) per input.  Passing ``out`` lets a rule reuse its result
(exp' = out, tanh' = 1 - out^2), which is both cheaper and, on Values, exactly right for higher
derivatives because ``out`` is itself a node of the graph.

Rules for inputs that are not differentiable (comparisons) use ``m.step``, which always returns a
constant, so relu'' = 0 falls out without special cases.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable

__all__ = ["Op", "OPS", "register", "get"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(frozen=True, eq=False)
class Op:
    """One primitive: its name, forward rule, local derivatives and drawing symbol.

    ``arity`` is the number of inputs, or ``None`` for n-ary ops (sum, dot, logsumexp).
    ``params`` names keyword parameters (e.g. ``alpha`` of leaky_relu) fixed by :meth:`bind`;
    ``bound`` holds their values once bound.  ``domain`` says in words which inputs are valid,
    used in error messages.
    """

    name: str
    forward: Callable[..., Any]
    partials: Callable[..., tuple]
    symbol: str
    arity: int | None = 1
    params: tuple[str, ...] = ()
    bound: tuple[tuple[str, float], ...] = ()
    domain: str = ""
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def bind(self, **params: float) -> "Op":
        """Return this op with its parameters fixed, e.g. ``LEAKY_RELU.bind(alpha=0.1)`` (cached)."""
        key = tuple(sorted((k, float(v)) for k, v in params.items()))
        op = self._cache.get(key)
        if op is None:
            unknown = set(params) - set(self.params)
            if unknown:
                raise TypeError(f"{self.name}: unknown parameter(s) {sorted(unknown)}")
            kw = dict(key)
            op = replace(
                self,
                forward=_with_params(self.forward, kw),
                partials=_with_params(self.partials, kw),
                bound=key,
                _cache={},
            )
            if len(self._cache) < 4096:  # exponents drawn at random must not grow memory forever
                self._cache[key] = op
        return op

    @property
    def label(self) -> str:
        """Symbol shown in drawings, with bound parameters: ``**2``, ``leaky_relu(alpha=0.1)``."""
        if not self.bound:
            return self.symbol
        if self.name == "pow_const":
            return f"**{_fmt(self.bound[0][1])}"
        return f"{self.symbol}(" + ", ".join(f"{k}={_fmt(v)}" for k, v in self.bound) + ")"

    def __repr__(self) -> str:
        return f"Op({self.label!r})"


def _with_params(fn: Callable, kw: dict) -> Callable:
    def bound(*args):
        return fn(*args, **kw)

    bound.__name__ = fn.__name__
    return bound


def _fmt(x: float) -> str:
    # 2.0 -> "2"; inf, nan and 1e300 as repr gives them (int(inf) fails, int(1e300) has 301 digits)
    return str(int(x)) if math.isfinite(x) and x.is_integer() and abs(x) < 1e15 else repr(x)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the table (replacing one of the same name) and return it."""
    OPS[op.name] = op
    return op


def get(name: str) -> Op:
    """Look up an op by name; unknown names raise ``KeyError`` listing the known ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(OPS))}") from None


def _op(name, symbol, arity, forward, partials, params=(), domain=""):
    return register(Op(name, forward, partials, symbol, arity, params, (), domain))


# --- arithmetic ---------------------------------------------------------------------------------
ADD = _op("add", "+", 2, lambda m, a, b: a + b, lambda m, out, a, b: (1.0, 1.0))
SUB = _op("sub", "-", 2, lambda m, a, b: a - b, lambda m, out, a, b: (1.0, -1.0))
MUL = _op("mul", "*", 2, lambda m, a, b: a * b, lambda m, out, a, b: (b, a))
DIV = _op("div", "/", 2, lambda m, a, b: a / b, lambda m, out, a, b: (1.0 / b, -out / b),
          domain="the divisor must be non-zero")
NEG = _op("neg", "-", 1, lambda m, x: -x, lambda m, out, x: (-1.0,))
# x ** n for a constant n: the exponent is a parameter, not an input, so it has no gradient.
# x ** 0 is the constant 1, slope 0 everywhere (0 * 0 ** -1 would fail at x = 0).
POW_CONST = _op("pow_const", "**", 1, lambda m, x, n: m.pow(x, n),
                lambda m, out, x, n: (n * m.pow(x, n - 1.0) if n != 0.0 else 0.0,), params=("n",),
                domain="0 ** negative is undefined and a negative base needs an integer exponent")
# a ** b with both inputs variable: defined for a positive base only (as in PyTorch's real case).
POW = _op("pow", "**", 2, lambda m, a, b: m.pow_positive(a, b),
          lambda m, out, a, b: (b * m.pow_positive(a, b - 1.0), out * m.log(a)),
          domain="the base must be positive")

# --- elementary functions ---------------------------------------------------------------------
EXP = _op("exp", "exp", 1, lambda m, x: m.exp(x), lambda m, out, x: (out,))
LOG = _op("log", "log", 1, lambda m, x: m.log(x), lambda m, out, x: (1.0 / x,),
          domain="the operand must be positive")
SQRT = _op("sqrt", "sqrt", 1, lambda m, x: m.sqrt(x), lambda m, out, x: (0.5 / out,),
           domain="the operand must be non-negative")
# abs'(0) = 0 by convention (the subgradient PyTorch also picks).
ABS = _op("abs", "abs", 1, lambda m, x: m.abs(x), lambda m, out, x: (m.step(x) - m.step(-x),))
SIN = _op("sin", "sin", 1, lambda m, x: m.sin(x), lambda m, out, x: (m.cos(x),))
COS = _op("cos", "cos", 1, lambda m, x: m.cos(x), lambda m, out, x: (-m.sin(x),))

# --- activations ---------------------------------------------------------------------------------
TANH = _op("tanh", "tanh", 1, lambda m, x: m.tanh(x), lambda m, out, x: (1.0 - out * out,))


def _sigmoid(m, x):
    # exp(-|x|) never overflows; the two branches of the logistic function share it.
    e = m.exp(-m.abs(x))
    s = m.step(x, 0.0, 1.0)  # 1 where x >= 0
    return (s + (1.0 - s) * e) / (1.0 + e)


SIGMOID = _op("sigmoid", "σ", 1, _sigmoid, lambda m, out, x: (out * (1.0 - out),))
# relu'(0) = 0 by convention (as PyTorch).
RELU = _op("relu", "relu", 1, lambda m, x: m.maximum(x, 0.0), lambda m, out, x: (m.step(x),))
# The piecewise ops pick a side with m.select rather than mixing both sides with 0/1 weights, so an
# infinite alpha on the unused side cannot make 0 * inf = NaN (elu(2, alpha=inf) is 2, as PyTorch).
LEAKY_RELU = _op(
    "leaky_relu", "leaky_relu", 1,
    lambda m, x, alpha: m.select(x, x, alpha * x),
    lambda m, out, x, alpha: (m.select(x, 1.0, alpha),),
    params=("alpha",),
)
# On the negative side elu(x) = alpha (e^x - 1) and its slope is alpha e^x. Both use min(x, 0),
# so no exp of a large positive x is ever evaluated; expm1 keeps tiny negative x exact, and the
# slope is computed directly (out + alpha would cancel to 0 for x below about -37).
ELU = _op(
    "elu", "elu", 1,
    lambda m, x, alpha: m.select(x, x, alpha * m.expm1(m.minimum(x, 0.0))),
    lambda m, out, x, alpha: (m.select(x, 1.0, alpha * m.exp(m.minimum(x, 0.0))),),
    params=("alpha",),
)
SELU = _op(
    "selu", "selu", 1,
    lambda m, x: SELU_SCALE * m.select(x, x, SELU_ALPHA * m.expm1(m.minimum(x, 0.0))),
    lambda m, out, x: (SELU_SCALE * m.select(x, 1.0, SELU_ALPHA * m.exp(m.minimum(x, 0.0))),),
)
# softplus(x) = log(1 + e^x) written so that neither branch overflows.
SOFTPLUS = _op(
    "softplus", "softplus", 1,
    lambda m, x: m.maximum(x, 0.0) + m.log1p(m.exp(-m.abs(x))),
    lambda m, out, x: (m.sigmoid(x),),
)
# swish(x, beta) = x * sigmoid(beta x); beta is an input so it can be trained.
SWISH = _op(
    "swish", "swish", 2,
    lambda m, x, beta: x * m.sigmoid(beta * x),
    lambda m, out, x, beta: _swish_partials(m, out, x, beta),
)


def _swish_partials(m, out, x, beta):
    s = m.sigmoid(beta * x)
    return (s + beta * out * (1.0 - s), x * out * (1.0 - s))


# --- comparisons: ties split the gradient equally ---------------------------------------------
MAXIMUM = _op("maximum", "max", 2, lambda m, a, b: m.maximum(a, b),
              lambda m, out, a, b: (m.step(a, b, 0.5), m.step(b, a, 0.5)))
MINIMUM = _op("minimum", "min", 2, lambda m, a, b: m.minimum(a, b),
              lambda m, out, a, b: (m.step(b, a, 0.5), m.step(a, b, 0.5)))


# --- n-ary reductions: one node for a whole sum -------------------------------------------------
SUM = _op("sum", "Σ", None, lambda m, *xs: m.sum(xs), lambda m, out, *xs: (1.0,) * len(xs))


def _dot_forward(m, *args):
    # args = w_1..w_n, x_1..x_n[, b]: an odd count means a bias is present.
    n = len(args) // 2
    s = m.sumprod(args[:n], args[n:2 * n])
    return s + args[-1] if len(args) % 2 else s


def _dot_partials(m, out, *args):
    n = len(args) // 2
    return tuple(args[n:2 * n]) + tuple(args[:n]) + ((1.0,) if len(args) % 2 else ())


DOT = _op("dot", "w·x+b", None, _dot_forward, _dot_partials)


def _logsumexp_shift(m, xs):
    """(c, top - c, sum of exp(x - c)): the shift c is the maximum, so every x - c <= 0 and exp never
    overflows.  A non-finite maximum shifts by the largest float instead (inf - inf would be NaN) and
    comes back through top - c: +inf gives +inf, NaN gives NaN, all -inf gives log(0), a domain error."""
    top = m.max(xs)
    c = m.finite_or(top, sys.float_info.max)
    return c, top - c, m.sum([m.exp(x - c) for x in xs])


def _logsumexp_forward(m, *xs):
    c, d, s = _logsumexp_shift(m, xs)
    return c + m.log(s) + d


def _logsumexp_partials(m, out, *xs):
    # softmax from the shifted values, exp(x - c) / sum: exact where exp(x - out) is not (at 1e12,
    # out = x + log 2 is rounded to the spacing of 1e12 and the gradient comes out as 0.500016)
    c, d, s = _logsumexp_shift(m, xs)
    return tuple(m.exp(x - c - d) / s for x in xs)


LOGSUMEXP = _op("logsumexp", "logΣexp", None, _logsumexp_forward, _logsumexp_partials)
