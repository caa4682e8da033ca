"""Rules on arrays: the numpy backend a batch program runs, and the symbolic one that writes it.

:func:`numpy_backend` is the backend over numpy arrays (numpy imported on first use): the op table's
rules run on it over a whole batch at once.  ``each(f, xs)`` calls the elementwise ``f`` once on the
inputs stacked in one array and returns a :class:`Stack` (a tuple of that array's rows), which
``sum``, ``max`` and ``each`` read without a copy.

:data:`ASYM` evaluates a rule on symbols that stand for arrays (:class:`~autograd.tape.symbols.Sym`):
each backend function becomes a call of the numpy backend's function of that name, so the text
:mod:`~autograd.tape.batchgen` writes computes what the rule computes on :func:`numpy_backend`.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace
from typing import Any

from ..backends import backend
from ..table import BUILTINS
from .symbols import Sym

__all__ = ["numpy_backend", "Stack", "ASYM", "SymStack", "Lane", "item_run", "finite_backend", "full"]

_NUMPY = None


class Stack(tuple):
    """What the numpy backend's ``each`` returns: a tuple of results, one per input, that are the
    rows of one array, ``.array``; ``sum``, ``max`` and ``each`` use that array as it is."""

    array: Any

    def __new__(cls, array: Any) -> Stack:
        self = super().__new__(cls, array)  # iterating an array gives its rows (views)
        self.array = array
        return self


def stacked(xs: Any) -> Any:
    """The inputs of an n-ary rule as one array: a tuple of equally shaped arrays stacks in one call;
    mixed shapes (a parameter's (k, 1) beside a batch's (k, B)) broadcast first."""
    import numpy as np

    if type(xs) is Stack:
        return xs.array
    try:
        return np.asarray(xs, dtype=float)
    except ValueError:  # shapes differ (numpy refuses a ragged array)
        return np.asarray(np.broadcast_arrays(*xs), dtype=float)


def numpy_backend() -> SimpleNamespace:
    """The backend over numpy arrays (created on first use, so numpy is imported only then)."""
    global _NUMPY
    if _NUMPY is None:
        import numpy as np

        def step(a: Any, b: Any = 0.0, tie: float = 0.0) -> Any:
            above = np.greater(a, b)
            if tie == 0.0:  # a tie gives 0 like a < b: only a NaN (unordered) gives something else
                simple = not (np.isnan(a).any() or np.isnan(b).any())
            else:
                simple = bool(np.logical_or(above, np.less(a, b)).all())
            if simple:
                return above.astype(float)
            return np.where(above, 1.0, np.where(np.less(a, b), 0.0, np.where(np.equal(a, b), tie, np.nan)))

        def pow_positive(a: Any, b: Any) -> Any:
            if not np.all(np.greater(a, 0.0)):  # what np.errstate(invalid="raise") would say
                raise FloatingPointError("invalid value encountered in pow: the base must be positive")
            return np.power(a, b)

        def power(x: Any, n: float) -> Any:
            # as the float backend: a negative base with a fractional exponent is refused, also where
            # numpy would quietly give a number ((-inf) ** -1.5 is 0 in numpy)
            if math.isfinite(n) and not float(n).is_integer() and np.any(np.less(x, 0.0)):
                raise FloatingPointError("invalid value encountered in power: a negative base needs an integer "
                                         "exponent")
            return np.power(x, n)

        def each(f: Any, xs: Any) -> Stack:
            # f is elementwise, so one call on the stacked inputs computes every lane's result; a
            # result that does not depend on its input (a constant) is repeated for each lane
            a = stacked(xs)
            r = f(a)
            if type(r) is not np.ndarray or r.shape != a.shape:
                r = np.broadcast_to(r, np.broadcast_shapes(np.shape(r), a.shape))
            return Stack(r)

        # exp, log, ..., maximum, minimum: numpy's function of that name
        nb: SimpleNamespace = backend(dict(
            pow=power, pow_positive=pow_positive,
            finite_or=lambda x, default: np.where(np.isfinite(x), x, default),
            step=step, select=lambda x, pos, neg: np.where(x > 0.0, pos, np.where(x <= 0.0, neg, np.nan)),
            sum=lambda xs: np.add.reduce(stacked(xs), axis=0),  # np.sum without its Python wrapper
            sumprod=lambda w, x: np.add.reduce(np.multiply(stacked(w), stacked(x)), axis=0),
            max=lambda xs: np.maximum.reduce(stacked(xs), axis=0),
            each=each,
            sigmoid=lambda x: BUILTINS["sigmoid"].forward(nb, x),
        ), lambda f: getattr(np, f))
        _NUMPY = nb
    return _NUMPY


# --- the symbolic array backend -----------------------------------------------------------------------
class SymStack(tuple):
    """Rows of one stacked array as symbols (``e[j]``), ``.array`` being the array's symbol: what
    ``each`` returns on symbols, and the inputs of an n-ary group, stacked in one block."""

    array: Any

    def __new__(cls, array: Sym, n: int) -> SymStack:
        # each row also carries the stack's number of rows (which :func:`item_run` reads)
        self = super().__new__(cls, [Sym("item", str(j), (array, n)) for j in range(n)])
        self.array = array
        return self


class Lane:
    """A position of a block of stacked arrays: what ``dot``'s rule gets for each weight and input of a
    group that the batch program contracts as one matrix product, ``product`` (its sumprod)."""

    __slots__ = ("product",)

    def __init__(self, product: Sym) -> None:
        self.product = product


def item_run(xs: Any) -> Any:
    """Consecutive rows ``e[a]``, ``e[a + 1]`` ... of one stack as one symbol: ``e`` when they are all
    its rows, else the slice ``e[a:b]``; None when ``xs`` are not such rows."""
    first = xs[0] if len(xs) else None
    if type(first) is not Sym or first.kind != "item" or not first.text.isdigit():
        return None
    base, a = first.args[0], int(first.text)
    if not all(type(x) is Sym and x.kind == "item" and x.args[0] is base and x.text == str(a + j)
               for j, x in enumerate(xs)):
        return None
    return base if a == 0 and first.args[1:] == (len(xs),) else \
        Sym("item", f"{a}:{a + len(xs)}", (base,))


def _as_sym(xs: Any) -> Any:
    """Symbols as one argument: a stack's array, a run of its rows as a slice of it, else a tuple."""
    if type(xs) is SymStack:
        return xs.array
    return item_run(xs) or Sym("tuple", "", tuple(xs))


def _call(name: str) -> Any:
    # (the table's rules call the backend on arrays only, never on numbers alone: nothing to fold)
    def apply(*args: Any) -> Any:
        return Sym("call", name, args)

    apply.__name__ = name
    return apply


def _reduce(name: str) -> Any:
    return lambda xs: Sym("call", name, (_as_sym(xs),))


_lambdas = itertools.count(1)  # numbers the parameters of the lambdas each writes


def _each(f: Any, xs: Any) -> Any:
    x = Sym.name(f"_x{next(_lambdas)}")
    call = Sym("call", "each", (Sym("lambda", x.text, (f(x),)), _as_sym(xs)))
    return SymStack(call, len(xs))


def _sumprod(w: Any, x: Any) -> Any:
    if w and type(w[0]) is Lane:  # a group's weights and inputs as two blocks: one matrix product
        return w[0].product
    return Sym("call", "sumprod", (_as_sym(w), _as_sym(x)))


ASYM = backend(dict(sum=_reduce("sum"), max=_reduce("max"), each=_each, sumprod=_sumprod), _call)


def finite_backend(np: Any) -> dict[str, Any]:
    """The numpy backend's comparisons for arrays known to hold finite numbers only (the fast variant:
    an inf or NaN raises before anything reads it), which need no NaN handling, its ``each``
    returning one array, and its reductions taking that array (or a block of inputs) as it is."""
    nd = np.ndarray

    def step(a: Any, b: Any = 0.0, tie: float = 0.0) -> Any:
        if tie == 0.0:
            return np.greater(a, b).astype(float)
        return np.where(np.greater(a, b), 1.0, np.where(np.equal(a, b), tie, 0.0))

    def each(f: Any, xs: Any) -> Any:
        # the generated code reads the result as one array (its rows, slices of it, sum or max of it):
        # the rows need not be made into a Stack
        a = xs if type(xs) is nd else stacked(xs)
        r = f(a)
        return r if type(r) is nd and r.shape == a.shape else np.broadcast_to(r, a.shape)

    return {"step": step, "select": lambda x, pos, neg: np.where(np.greater(x, 0.0), pos, neg),
            "finite_or": lambda x, default: x, "each": each,
            "sum": lambda xs: np.add.reduce(xs if type(xs) is nd else stacked(xs), axis=0),
            "max": lambda xs: np.maximum.reduce(xs if type(xs) is nd else stacked(xs), axis=0),
            "sumprod": lambda w, x: np.add.reduce(np.multiply(w if type(w) is nd else stacked(w),
                                                              x if type(x) is nd else stacked(x)), axis=0)}


def full(x: Any, shape: tuple) -> Any:
    """``x`` as an array of ``shape`` (a rule whose result does not depend on every input)."""
    import numpy as np

    if type(x) is np.ndarray and x.shape == shape:
        return x
    return np.broadcast_to(x, shape)
