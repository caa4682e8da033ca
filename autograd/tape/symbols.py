"""The symbolic backend: the op table's rules evaluated on symbols write Python source.

A :class:`Sym` is an expression tree built by operator overloading (``a * b`` makes a ``*`` node).
Evaluating ``op.forward(SYM, Sym.name("x"))`` or ``op.partials(SYM, ...)`` with it yields the
expression the rule computes, rendered as Python text by :func:`render`.  Numbers mixed with
symbols stay literals, and a rule applied to numbers only is computed on the spot with the float
backend (constant folding), so the generated code runs the very float operations the eager
engine runs.
"""

from __future__ import annotations

import keyword
import math
from typing import Any

from ..backends import FLOAT, NAMES, backend

__all__ = ["Sym", "SYM", "render", "literal", "NAMESPACE", "post_order", "unique_name"]

# Binding strength, as in Python's grammar: higher binds tighter.
_PREC = {"lambda": 0, "if": 1, "cmp": 6, "+": 11, "-": 11, "*": 12, "@": 12, "/": 12, "neg": 13, "**": 14,
         "atom": 20}


class Sym:
    """A symbolic expression: a name, a call, or an operator applied to symbols and numbers."""

    __slots__ = ("kind", "text", "args")

    def __init__(self, kind: str, text: str, args: tuple = ()) -> None:
        # "name" | "op" (text is the operator) | "neg" | "call" | "if"; batch code (arrays.py) also
        # has "item" (args[0][text]; a stack's row also args[1], the stack's number of rows) and
        # "lambda" (text: its parameter, args: its body)
        self.kind, self.text, self.args = kind, text, args

    @staticmethod
    def name(text: str) -> Sym:
        """A variable of the generated code."""
        return Sym("name", text)

    def __repr__(self) -> str:
        return f"Sym({render(self)!r})"

    def _bin(self, op: str, other: Any, flip: bool = False) -> Any:
        a, b = (other, self) if flip else (self, other)
        return Sym("op", op, (a, b))

    def __add__(self, o: Any) -> Any:
        return self._bin("+", o)

    def __radd__(self, o: Any) -> Any:
        return self._bin("+", o, True)

    def __sub__(self, o: Any) -> Any:
        return self._bin("-", o)

    def __rsub__(self, o: Any) -> Any:
        return self._bin("-", o, True)

    def __mul__(self, o: Any) -> Any:
        return self._bin("*", o)

    def __rmul__(self, o: Any) -> Any:
        return self._bin("*", o, True)

    def __truediv__(self, o: Any) -> Any:
        return self._bin("/", o)

    def __rtruediv__(self, o: Any) -> Any:
        return self._bin("/", o, True)

    def __pow__(self, o: Any) -> Any:  # as m.pow: ``**`` only where it cannot make a complex number
        return _pow(self, o)

    def __rpow__(self, o: Any) -> Any:
        return _pow(o, self)

    def __neg__(self) -> Any:
        return Sym("neg", "-", (self,))


def _is_sym(*xs: Any) -> bool:
    return any(type(x) is Sym for x in xs)


def literal(x: float) -> str:
    """A float as Python source (``inf`` and ``nan`` are names of the generated namespace)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _call(fname: str, *args: Any) -> Sym:
    return Sym("call", fname, args)


def _fn(fname: str) -> Any:
    float_fn = getattr(FLOAT, fname)

    def apply(*args: Any) -> Any:
        return _call(fname, *args) if _is_sym(*args) else float_fn(*args)

    apply.__name__ = fname
    return apply


def _atomic(x: Any) -> bool:
    return type(x) is not Sym or x.kind == "name"


def _pow(x: Any, n: Any) -> Any:
    if not _is_sym(x, n):
        return FLOAT.pow(x, n)
    # An integral constant exponent can never make a complex number: plain ** is safe and fast; any
    # other goes through the float backend's pow, which refuses a negative base (Python's ** would
    # give a complex number, which eager refuses too).
    if type(n) in (float, int) and math.isfinite(n) and n == math.floor(n) and abs(n) < 2**53:
        return Sym("op", "**", (x, n))
    return _call("pow", x, n)


def _step(a: Any, b: Any = 0.0, tie: Any = 0.0) -> Any:
    if not _is_sym(a, b):
        return FLOAT.step(a, b, tie)
    if not (_atomic(a) and _atomic(b)):
        return _call("step", a, b, tie)
    # NaN in, NaN out: a NaN operand fails every comparison and falls through to nan
    if tie == 0.0:
        rest = Sym("if", "", (0.0, Sym("op", "<=", (a, b)), math.nan))
    else:
        rest = Sym("if", "", (tie, Sym("op", "==", (a, b)), Sym("if", "", (0.0, Sym("op", "<", (a, b)), math.nan))))
    return Sym("if", "", (1.0, Sym("op", ">", (a, b)), rest))


def _select(x: Any, pos: Any, neg: Any) -> Any:
    if not _is_sym(x, pos, neg):
        return FLOAT.select(x, pos, neg)
    if not _atomic(x):
        return _call("select", x, pos, neg)
    # Python's conditional evaluates only the branch taken
    return Sym("if", "", (pos, Sym("op", ">", (x, 0.0)), Sym("if", "", (neg, Sym("op", "<=", (x, 0.0)), math.nan))))


def _sum(xs: Any) -> Any:
    xs = list(xs)
    if not _is_sym(*xs):
        return FLOAT.sum(xs)
    if len(xs) > 16:  # long sums as one builtin call, which adds left to right like the chain
        return _call("sum", Sym("tuple", "", tuple(xs)))
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _sumprod(w: Any, x: Any) -> Any:
    w, x = list(w), list(x)
    if not _is_sym(*w, *x):
        return FLOAT.sumprod(w, x)
    if len(w) > 16:
        return _call("sumprod", Sym("tuple", "", tuple(w)), Sym("tuple", "", tuple(x)))
    return _sum([a * b for a, b in zip(w, x)])  # w0 * x0 + w1 * x1 + ..., as the chain adds them


def _max(xs: Any) -> Any:
    xs = list(xs)
    # one tuple argument: max of a single symbol is max((x,)), not max(x)
    return _call("max", Sym("tuple", "", tuple(xs))) if _is_sym(*xs) else FLOAT.max(xs)


# Every name not written here is a call of the float backend's function by that name (maximum/minimum
# too, so NaN propagates exactly as in eager).
# ``each``: one expression per input, as a loop in the rule would give.
SYM = backend(dict(pow=_pow, step=_step, select=_select, sum=_sum, sumprod=_sumprod, max=_max, each=FLOAT.each,
                   sigmoid=lambda x: _call("sigmoid", x) if _is_sym(x) else FLOAT.sigmoid(x)), _fn)

# What the names used by generated code mean: the float backend, so replay runs the same floats.
# (each runs while tracing, never in the code)
NAMESPACE: dict[str, Any] = {**{f: getattr(FLOAT, f) for f in NAMES if f != "each"}, "inf": math.inf, "nan": math.nan}
RESERVED = frozenset(NAMESPACE) | frozenset(keyword.kwlist) | {"self", "None", "True", "False"}


def unique_name(base: str, used: set[str], grad: str) -> str:
    """``base`` (``_`` first if it starts with a digit), else ``base_2``, ``base_3`` ...: the first name
    that is not in ``used``, nor is its gradient's (``grad`` + name); both are then taken."""
    base = "_" + base if base[0].isdigit() else base
    name, k = base, 2
    while name in used or grad + name in used:
        name, k = f"{base}_{k}", k + 1
    used.update((name, grad + name))
    return name


def _prec(x: Any) -> int:
    if type(x) is not Sym:
        return _PREC["neg"] if (type(x) is float and (x < 0 or math.copysign(1, x) < 0)) else _PREC["atom"]
    if x.kind == "op":
        return _PREC["cmp"] if x.text in (">", ">=", "<=", "<", "==") else _PREC[x.text]
    if x.kind == "neg":
        return _PREC["neg"]
    if x.kind in ("if", "lambda"):
        return _PREC[x.kind]
    return _PREC["atom"]


def render(x: Any, names: dict | None = None) -> str:
    """Python source for ``x``; ``names`` maps shared sub-expressions (by id) to temporaries."""
    return _render(x, names or {}, top=True)


def _render(x: Any, names: dict, top: bool = False) -> str:
    if type(x) is not Sym:
        return literal(x)
    if not top and id(x) in names:
        return str(names[id(x)])
    k = x.kind
    if k == "name":
        return x.text
    if k == "call":
        return f"{x.text}(" + ", ".join(_render(a, names) for a in x.args) + ")"
    if k == "tuple":
        return "(" + ", ".join(_render(a, names) for a in x.args) + ",)" if x.args else "()"
    if k == "item":
        return f"{_wrap(x.args[0], names, _PREC['atom'])}[{x.text}]"
    if k == "lambda":
        return f"lambda {x.text}: {_render(x.args[0], names)}"
    if k == "neg":
        s = _render(x.args[0], names)
        return f"-{s}" if _prec_named(x.args[0], names) > _PREC["neg"] else f"-({s})"
    if k == "if":
        val, cond, other = x.args
        return f"{_wrap(val, names, _PREC['if'] + 1)} if {_render(cond, names)} else {_wrap(other, names, _PREC['if'])}"
    a, b = x.args
    p = _prec(x)
    if x.text == "**":  # right-associative, and -a ** b means -(a ** b)
        return f"{_wrap(a, names, p + 1)} ** {_wrap(b, names, p)}"
    # Float + and * are not associative: a right operand of equal strength keeps its brackets.
    return f"{_wrap(a, names, p)} {x.text} {_wrap(b, names, p + 1)}"


def _prec_named(x: Any, names: dict) -> int:
    return _PREC["atom"] if type(x) is Sym and id(x) in names else _prec(x)


def _wrap(x: Any, names: dict, need: int) -> str:
    s = _render(x, names)
    return s if _prec_named(x, names) >= need else f"({s})"


def post_order(tree: Any) -> list:
    """The symbols of an expression tree, parts before wholes (each object once)."""
    out: list = []
    seen: set[int] = set()
    stack = [(tree, False)]
    while stack:
        x, done = stack.pop()
        if type(x) is not Sym:
            continue
        if done:
            out.append(x)
        elif id(x) not in seen:
            seen.add(id(x))
            stack.append((x, True))
            stack.extend((a, False) for a in reversed(x.args))
    return out
