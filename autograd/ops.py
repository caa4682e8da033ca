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

Every op, built in or yours, is declared with :func:`defop` and is callable: ``TANH(x)`` is the node
``tanh(x)``.  Value methods look their op up in the table by name (``OPS["tanh"]``), so an op
replaced with ``defop(..., replace=True)`` changes ``Value.tanh`` too.  Rules refer to other ops
only through the backend (``m.sigmoid`` in softplus' derivative), and every backend calls the
built-in op there (``table.BUILTINS``): a replacement changes what its name makes from then on,
never the rules of other ops.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from . import errors
from .backends import FLOAT, VALUE, VALUE_BUILTIN, OnBuiltins, plain
from .table import BUILTINS, OPS, get
from .value import Value, apply

__all__ = ["Op", "OPS", "defop", "get", "register", "built_in"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(eq=False)
class Op:
    """One primitive: its name, forward rule, local derivatives and drawing symbol.

    ``arity`` is the number of inputs, or ``None`` for n-ary ops (sum, dot, logsumexp).
    ``params`` names keyword parameters (e.g. ``alpha`` of leaky_relu) fixed by :meth:`bind`;
    ``bound`` holds their values once bound.  ``domain`` says in words which inputs are valid,
    used in error messages.  Calling an op applies it: ``op(x, alpha=0.1)`` is a Value node.
    ``rule`` is the partials rule as written (``partials`` checks what it returns on its first call).
    """

    name: str
    forward: Callable[..., Any]
    partials: Callable[..., Any]
    symbol: str
    arity: int | None = 1
    params: tuple[str, ...] = ()
    bound: tuple[tuple[str, float], ...] = ()
    domain: str = ""
    _cache: dict[tuple[tuple[str, float], ...], Op] = field(default_factory=dict, repr=False)
    # ``step(node, g)``: this op's backward step on floats, generated from its rules by fastpath.py for
    # the built-in ops (None: fast_backward.py calls ``partials``)
    float_step: Callable[[Any, float], None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # The rule as written; ``partials`` checks what it returns on its first call on floats,
        # then becomes the rule itself: later calls are checked where they are read, cheaply.
        self.rule = self.partials
        self.partials = self._first_partials

    def _first_partials(self, m: Any, out: Any, *xs: Any) -> Any:
        ds = self.rule(m, out, *xs)
        if m is FLOAT:
            problem = errors.partials_error(self, ds, len(xs), on_floats=True)
            if problem:
                raise problem
            self.partials = self.rule
        return ds

    def float_forward(self, *xs: float, where: str = "") -> float:
        """The forward rule on floats, its result checked as :func:`apply` checks it (a real number);
        a math error names the op, its operands and ``where`` (a tape node, a batch sample)."""
        try:
            out = self.forward(FLOAT, *xs)
        except (ArithmeticError, ValueError) as e:
            raise errors.forward_error(self, xs, e, where) from None
        return out if type(out) is float else errors.real_result(self, out, xs, where)

    def float_partials(self, out: float, *xs: float, where: str = "") -> tuple[Any, ...]:
        """The local derivatives on floats, checked at every call: a tuple of one real number per input."""
        try:
            ds = self.partials(FLOAT, out, *xs)
        except (ArithmeticError, ValueError) as e:
            raise errors.backward_error(self, xs, e, where) from None
        if type(ds) is not tuple or len(ds) != len(xs) or not all(type(d) is float for d in ds):
            problem = errors.partials_error(self, ds, len(xs), on_floats=True)
            if problem:
                raise problem
        return ds  # type: ignore[no-any-return]

    def forward_on(self, m: Any, *xs: Any, on: str = "arrays") -> Any:
        """The forward rule on backend ``m``, symbols (``on="symbols"``) or numpy arrays: a rule written
        for floats only (``math.tanh(x)``, ``if x > 0:``) or returning no number is a RuleError naming the op."""
        try:
            out = self.forward(m, *xs)
        except (TypeError, ValueError) as e:
            if errors.not_generic(e):
                raise errors.not_on_backend(self, "forward", on, e) from None
            raise
        if type(out) is not float and errors.wrong_kind(out, on):
            raise errors.RuleError(f"{self.name}: its forward rule must return a number, it returned "
                                   f"{errors.wrong_kind(out, on)} on {errors.BACKENDS[on]}")
        return out

    def checked_partials(self, m: Any, out: Any, *xs: Any, on: str = "arrays") -> tuple[Any, ...]:
        """The local derivatives on backend ``m``, refused unless they are a tuple of one per input: the
        check the float path makes, for the paths that build code (``on="symbols"``), graphs (Values) or
        arrays; a rule written for floats only is a RuleError naming the op (on Values: no second derivative)."""
        if m is VALUE or m is VALUE_BUILTIN:
            on = "values"
        try:
            ds = self.rule(m, out, *xs)
        except (TypeError, ValueError) as e:
            if on == "values" or not errors.not_generic(e):
                raise
            raise errors.not_on_backend(self, "partials", on, e) from None
        problem = errors.partials_error(self, ds, len(xs), on_floats=False, on=on)
        if problem:
            raise problem
        return ds  # type: ignore[no-any-return]

    def __call__(self, *inputs: Value | float, **params: float) -> Value:
        """The node ``op(*inputs)``; keyword parameters bind the op first (``leaky(x, alpha=0.1)``)."""
        return apply(self.bind(**params) if params else self, inputs)

    def derivatives(self, node: Value, on_values: bool = False) -> tuple[Any, ...]:
        """d node / d parent for each parent of ``node`` (made by this op): numbers, checked at every
        call, or, ``on_values``, Values (graphs that can be differentiated again).  Failures name the op
        and the operands."""
        ps = node.parents
        if not on_values:
            return self.float_partials(node.data, *[p.data for p in ps])
        try:
            if getattr(self.rule, "__wrapped__", self.rule) in _BUILTIN_RULES:  # built-in arithmetic, too
                ds = self.checked_partials(VALUE_BUILTIN, OnBuiltins(node), *map(OnBuiltins, ps))
                return tuple(map(plain, ds))
            return self.checked_partials(VALUE, node, *ps)
        except (ArithmeticError, ValueError) as e:
            raise errors.backward_error(self, [p.data for p in ps], e) from None
        except (TypeError, AttributeError, NotImplementedError) as e:
            if not isinstance(e, errors.PartialsError):
                raise errors.no_second_derivative(self, e) from None
            raise

    def bind(self, **params: float) -> Op:
        """Return this op with its parameters fixed, e.g. ``LEAKY_RELU.bind(alpha=0.1)`` (cached)."""
        if len(params) == 1:  # x ** 2: one number, looked up as given (2 == 2.0 and hashes alike)
            ((name, number),) = params.items()
            if type(number) is float or type(number) is int:
                op = self._cache.get(((name, number),))
                if op is not None:
                    return op
        key = tuple(sorted((k, errors.as_float(v, f"{self.label}: {k}")) for k, v in params.items()))
        op = self._cache.get(key)
        if op is None:
            unknown = set(params) - set(self.params)
            if unknown:
                raise TypeError(f"{self.name}: unknown parameter(s) {sorted(unknown)}; it takes {list(self.params)}")
            kw = dict(key)
            op = dataclasses.replace(self, forward=_with_params(self.forward, kw),
                                     partials=_with_params(self.rule, kw), bound=key, _cache={})
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


def _with_params(fn: Callable[..., Any], kw: dict[str, float]) -> Callable[..., Any]:
    def bound(*args: Any) -> Any:
        return fn(*args, **kw)

    bound.__name__ = getattr(fn, "__name__", "rule")
    bound.__wrapped__ = fn  # type: ignore[attr-defined]  # the rule as declared (a built-in one?)
    return bound


def _fmt(x: float) -> str:
    # 2.0 -> "2"; inf, nan and 1e300 as repr gives them (int(inf) fails, int(1e300) has 301 digits)
    return str(int(x)) if math.isfinite(x) and x.is_integer() and abs(x) < 1e15 else repr(x)


def defop(
    name: str,
    *,
    forward: Callable[..., Any],
    partials: Callable[..., Any],
    symbol: str | None = None,
    arity: int | None = 1,
    params: Sequence[str] = (),
    domain: str = "",
    replace: bool = False,
) -> Op:
    """Declare a primitive: its forward rule and its local derivatives, written once on a backend ``m``.

    ``forward(m, *inputs, **params)`` returns the output; ``partials(m, out, *inputs, **params)``
    returns a tuple with one derivative d out / d input per input (``out`` is the output, so
    ``exp`` can say ``(out,)``).  Use ``m.exp``, ``m.log``, ``m.step`` ... (never ``math``): the
    same rules then run on floats, on Values (second derivatives), on numpy arrays (batches) and
    on symbols (the tape's generated code), and the op draws with its ``symbol``.

    >>> softsign = defop("softsign", forward=lambda m, x: x / (1 + m.abs(x)),
    ...                  partials=lambda m, out, x: (1 / (1 + m.abs(x)) ** 2,))
    >>> softsign(Value(1.0)).data
    0.5

    ``arity`` is the number of inputs (``None``: any number); ``params`` names keyword parameters
    bound when called (``op(x, alpha=0.1)``); ``domain`` says in words where the op is defined, for
    error messages.  Taking an existing name is an error unless ``replace=True``; replacing changes
    every later use of the name, Value methods included (nodes already built keep their op).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"defop: name must be an identifier such as 'softsign', got {errors.short(name)}")
    if name in OPS and not replace:
        raise ValueError(f"defop: an op named {name!r} exists already ({OPS[name]!r}); "
                         "pass replace=True to replace it, or choose another name")
    if arity is not None and (isinstance(arity, bool) or not isinstance(arity, int) or arity < 1):
        raise ValueError(f"defop {name}: arity must be a positive int, or None for any number, got {arity!r}")
    if isinstance(params, str) or not all(isinstance(p, str) for p in params):
        raise TypeError(f"defop {name}: params must be a tuple of names such as ('alpha',), got {params!r}")
    _check_signature(name, "forward", forward, 1, arity, params)
    _check_signature(name, "partials", partials, 2, arity, params)
    op = Op(name, forward, partials, name if symbol is None else symbol, arity, tuple(params), (), domain)
    OPS[op.name] = op
    return op


def _check_signature(name: str, what: str, fn: Any, lead: int, arity: int | None, params: Sequence[str]) -> None:
    """``fn`` must accept (m[, out], *inputs, **params): say so now rather than at the first call."""
    if not callable(fn):
        raise TypeError(f"defop {name}: {what} must be a function, got {type(fn).__name__} {errors.short(fn)}")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return
    args = [None] * (lead + (2 if arity is None else arity))
    try:
        signature.bind(*args, **{p: 0.0 for p in params})
    except TypeError:
        takes = "m, out" if lead == 2 else "m"
        inputs = "*xs" if arity is None else ", ".join(f"x{i}" for i in range(arity)) if arity > 1 else "x"
        extra = "".join(f", {p}" for p in params)
        raise TypeError(f"defop {name}: {what} must take ({takes}, {inputs}{extra}), "
                        f"got {what}{signature}") from None


def register(op: Op) -> Op:
    """Add an already built ``op`` to the table (replacing one of the same name); prefer :func:`defop`."""
    OPS[op.name] = op
    return op


# --- arithmetic ---------------------------------------------------------------------------------
ADD = defop("add", symbol="+", arity=2, forward=lambda m, a, b: a + b, partials=lambda m, out, a, b: (1.0, 1.0))
SUB = defop("sub", symbol="-", arity=2, forward=lambda m, a, b: a - b, partials=lambda m, out, a, b: (1.0, -1.0))
MUL = defop("mul", symbol="*", arity=2, forward=lambda m, a, b: a * b, partials=lambda m, out, a, b: (b, a))
DIV = defop("div", symbol="/", arity=2, forward=lambda m, a, b: a / b, partials=lambda m, out, a, b: (1.0 / b, -out / b),
            domain="the divisor must be non-zero")
NEG = defop("neg", symbol="-", forward=lambda m, x: -x, partials=lambda m, out, x: (-1.0,))
# x ** n for a constant n: the exponent is a parameter, not an input, so it has no gradient.
# x ** 0 is the constant 1, slope 0 everywhere (0 * 0 ** -1 would fail at x = 0).
POW_CONST = defop("pow_const", symbol="**", params=("n",),
                  forward=lambda m, x, n: m.pow(x, n),
                  partials=lambda m, out, x, n: (n * m.pow(x, n - 1.0) if n != 0.0 else 0.0,),
                  domain="0 ** negative is undefined and a negative base needs an integer exponent")
# a ** b with both inputs variable: defined for a positive base only (as in PyTorch's real case).
POW = defop("pow", symbol="**", arity=2,
            forward=lambda m, a, b: m.pow_positive(a, b),
            partials=lambda m, out, a, b: (b * m.pow_positive(a, b - 1.0), out * m.log(a)),
            domain="the base must be positive")

# --- elementary functions ---------------------------------------------------------------------
EXP = defop("exp", forward=lambda m, x: m.exp(x), partials=lambda m, out, x: (out,))
LOG = defop("log", forward=lambda m, x: m.log(x), partials=lambda m, out, x: (1.0 / x,),
            domain="the operand must be positive")
SQRT = defop("sqrt", forward=lambda m, x: m.sqrt(x), partials=lambda m, out, x: (0.5 / out,),
             domain="the operand must be non-negative")
# abs'(0) = 0 by convention (the subgradient PyTorch also picks).
ABS = defop("abs", forward=lambda m, x: m.abs(x), partials=lambda m, out, x: (m.step(x) - m.step(-x),))
SIN = defop("sin", forward=lambda m, x: m.sin(x), partials=lambda m, out, x: (m.cos(x),))
COS = defop("cos", forward=lambda m, x: m.cos(x), partials=lambda m, out, x: (-m.sin(x),))

# --- activations ---------------------------------------------------------------------------------
TANH = defop("tanh", forward=lambda m, x: m.tanh(x), partials=lambda m, out, x: (1.0 - out * out,))


def _sigmoid(m: Any, x: Any) -> Any:
    # exp(-|x|) never overflows; the two branches of the logistic function share it.
    e = m.exp(-m.abs(x))
    s = m.step(x, 0.0, 1.0)  # 1 where x >= 0
    return (s + (1.0 - s) * e) / (1.0 + e)


SIGMOID = defop("sigmoid", symbol="σ", forward=_sigmoid, partials=lambda m, out, x: (out * (1.0 - out),))
# relu'(0) = 0 by convention (as PyTorch).
RELU = defop("relu", forward=lambda m, x: m.maximum(x, 0.0), partials=lambda m, out, x: (m.step(x),))
# The piecewise ops pick a side with m.select rather than mixing both sides with 0/1 weights, so an
# infinite alpha on the unused side cannot make 0 * inf = NaN (elu(2, alpha=inf) is 2, as PyTorch).
LEAKY_RELU = defop(
    "leaky_relu", params=("alpha",),
    forward=lambda m, x, alpha: m.select(x, x, alpha * x),
    partials=lambda m, out, x, alpha: (m.select(x, 1.0, alpha),),
)
# On the negative side elu(x) = alpha (e^x - 1) and its slope is alpha e^x. Both use min(x, 0),
# so no exp of a large positive x is ever evaluated; expm1 keeps tiny negative x exact, and the
# slope is computed directly (out + alpha would cancel to 0 for x below about -37).
ELU = defop(
    "elu", params=("alpha",),
    # the value at 0 is x (0 on both sides; an infinite alpha must not make it inf * 0), the slope alpha
    forward=lambda m, x, alpha: m.select(-x, alpha * m.expm1(m.minimum(x, 0.0)), x),
    partials=lambda m, out, x, alpha: (m.select(x, 1.0, alpha * m.exp(m.minimum(x, 0.0))),),
)
SELU = defop(
    "selu",
    forward=lambda m, x: SELU_SCALE * m.select(x, x, SELU_ALPHA * m.expm1(m.minimum(x, 0.0))),
    partials=lambda m, out, x: (SELU_SCALE * m.select(x, 1.0, SELU_ALPHA * m.exp(m.minimum(x, 0.0))),),
)
# softplus(x) = log(1 + e^x) written so that neither branch overflows.
SOFTPLUS = defop(
    "softplus",
    forward=lambda m, x: m.maximum(x, 0.0) + m.log1p(m.exp(-m.abs(x))),
    partials=lambda m, out, x: (m.sigmoid(x),),
)


def _swish_partials(m: Any, out: Any, x: Any, beta: Any) -> tuple[Any, Any]:
    s = m.sigmoid(beta * x)
    # out * (1 - s) first: x * out could overflow to inf and meet a 1 - s of exactly 0 (swish(1e300,
    # beta=inf)), where the limit, x^2 sigmoid'(beta x), is 0 as PyTorch computes it
    return (s + beta * (out * (1.0 - s)), x * (out * (1.0 - s)))


# swish(x, beta) = x * sigmoid(beta x); beta is an input so it can be trained.
SWISH = defop("swish", arity=2, forward=lambda m, x, beta: x * m.sigmoid(beta * x), partials=_swish_partials)

# --- comparisons: ties split the gradient equally ---------------------------------------------
MAXIMUM = defop("maximum", symbol="max", arity=2, forward=lambda m, a, b: m.maximum(a, b),
                partials=lambda m, out, a, b: (m.step(a, b, 0.5), m.step(b, a, 0.5)))
MINIMUM = defop("minimum", symbol="min", arity=2, forward=lambda m, a, b: m.minimum(a, b),
                partials=lambda m, out, a, b: (m.step(b, a, 0.5), m.step(a, b, 0.5)))


# --- n-ary reductions: one node for a whole sum -------------------------------------------------
SUM = defop("sum", symbol="Σ", arity=None, forward=lambda m, *xs: m.sum(xs),
            partials=lambda m, out, *xs: (1.0,) * len(xs))


def _dot_forward(m: Any, *args: Any) -> Any:
    # args = w_1..w_n, x_1..x_n[, b]: an odd count means a bias is present.
    n = len(args) // 2
    s = m.sumprod(args[:n], args[n:2 * n])
    return s + args[-1] if len(args) % 2 else s


def _dot_partials(m: Any, out: Any, *args: Any) -> tuple[Any, ...]:
    n = len(args) // 2
    return tuple(args[n:2 * n]) + tuple(args[:n]) + ((1.0,) if len(args) % 2 else ())


DOT = defop("dot", symbol="w·x+b", arity=None, forward=_dot_forward, partials=_dot_partials)


def _logsumexp_shift(m: Any, xs: Sequence[Any]) -> tuple[Any, Any, Any, Any]:
    """(c, top - c, exp(x - c) for each x, their sum): the shift c is the maximum, so every x - c <= 0
    and exp never overflows.  A non-finite maximum shifts by the largest float instead (inf - inf would
    be NaN) and comes back through top - c: +inf gives +inf, NaN gives NaN, all -inf gives log(0), a
    domain error."""
    top = m.max(xs)
    c = m.finite_or(top, sys.float_info.max)
    exp = m.exp
    # one call for all inputs: a loop on floats and Values, one array operation on numpy
    es = m.each(lambda x: exp(x - c), xs)
    return c, top - c, es, m.sum(es)


def _logsumexp_forward(m: Any, *xs: Any) -> Any:
    c, d, _, s = _logsumexp_shift(m, xs)
    return c + m.log(s) + d


def _logsumexp_partials(m: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
    # softmax from the shifted values, exp(x - c) / sum: exact where exp(x - out) is not (at 1e12,
    # out = x + log 2 is rounded to the spacing of 1e12 and the gradient comes out as 0.500016).
    # exp(-d) is 1 unless the maximum is not finite; then it makes each slope what exp(x - c - d) / s
    # gives: 0 beside a +inf, NaN at +inf and everywhere for a NaN
    c, d, es, s = _logsumexp_shift(m, xs)
    k = m.exp(-d)
    return m.each(lambda e: e / s * k, es)  # type: ignore[no-any-return]


LOGSUMEXP = defop("logsumexp", symbol="logΣexp", arity=None, forward=_logsumexp_forward,
                  partials=_logsumexp_partials)

# The table as declared here: what backends call (m.sigmoid, and on Values m.exp, m.sumprod ...), so a
# later defop(..., replace=True) changes what its name makes, not the rules of other ops.
BUILTINS.update(OPS)
_BUILTIN_RULES = frozenset(op.rule for op in BUILTINS.values())


def built_in(op: Op) -> bool:
    """Whether ``op`` is one of the table's own ops as declared here (parameters bound or not): the
    batch code generator writes its rules as numpy expressions; any other op (a user's, or one of these
    replaced with ``defop(..., replace=True)``) has its rules called as they are."""
    base = BUILTINS.get(op.name)
    return base is not None and (op is base or any(op is b for b in base._cache.values()))
