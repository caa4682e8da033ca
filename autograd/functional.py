"""Function transforms: ``grad``, ``value_and_grad``, ``jacobian`` (``jacrev``), ``hessian`` and ``hvp``.

Each transform takes a Python function built from Value operations and returns a new function.
``f`` may take several scalars, ``f(x, y, z)``, or one sequence of scalars, ``f([x, y, z])``
(or a mix): a scalar argument gets a scalar derivative, a sequence argument a list.  Every scalar
reaches ``f`` as a Value (arguments not differentiated become constants), so ``f`` may use Value
methods such as ``x.tanh()``.

>>> from autograd import grad
>>> f = lambda x: x ** 3
>>> grad(f)(2.0), grad(grad(f))(2.0), grad(grad(grad(f)))(2.0)
(12.0, 12.0, 6.0)

Called with numbers, a transform returns numbers.  Called with Values, or from inside another
transform, it returns Values connected to the caller's graph (the gradient is built with
``create_graph``), which is what makes the transforms compose.  Derivatives come from the op table
(:mod:`autograd.ops`), evaluated on floats or, for derivatives of derivatives, on Values.

The transforms never touch any ``.grad`` attribute (a model's parameters captured by ``f`` keep
theirs) and leave no reference cycles behind: every graph they build is freed when dropped.
"""

from __future__ import annotations

import numbers
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from . import ops
from .graph import topological_order
from .modes import enable_grad, refuse_in_own_work
from .value import Value, apply, chain_rule

__all__ = ["grad", "value_and_grad", "jacobian", "jacrev", "hessian", "hvp", "gradients"]



class _Trace(threading.local):
    depth = 0  # > 0 while a transform is evaluating the user's function


_TRACE = _Trace()


@contextmanager
def tracing() -> Iterator[None]:
    """Mark that a transform is evaluating a function: nested transforms then return Values.

    Needed for closures: in ``grad(lambda x: grad(lambda y: x * y)(2.0))`` the inner call sees only
    the number 2.0, yet its result depends on the outer ``x`` and must stay connected to it.
    """
    _TRACE.depth += 1
    try:
        yield
    finally:
        _TRACE.depth -= 1


# --- the reverse pass ---------------------------------------------------------------------------
def gradients(
    output: Value | float, inputs: Sequence[Value], create_graph: bool = False
) -> list[Value | float]:
    """d(output)/d(input) for each input, like ``torch.autograd.grad``: no ``.grad`` is touched.

    Inputs may be leaves or interior nodes; only paths from ``output`` to them count.  With
    ``create_graph=True`` the op table's rules run on Values, so each derivative is a Value (or a
    constant float) that can be differentiated again.  The loop is ``Value.backward``'s own
    :func:`~autograd.value.chain_rule`, run over the nodes that depend on an input.
    """
    refuse_in_own_work("autograd's gradients (or grad, value_and_grad, a jacobian)")
    if not isinstance(output, Value):
        return [0.0] * len(inputs)
    targets = set(inputs)
    order = topological_order(output)
    # Only nodes that depend on an input carry a gradient worth computing.
    live = set()
    for node in order:
        if node in targets or any(p in live for p in node.parents):
            live.add(node)
    if output not in live:
        return [0.0] * len(inputs)
    grads = chain_rule([n for n in reversed(order) if n in live], {output: 1.0}, create_graph, only=live)
    return [grads.get(x, 0.0) for x in inputs]


# --- arguments ------------------------------------------------------------------------------------
def is_number(x: Any) -> bool:
    """A real number (not a bool)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_argnums(argnums: Any, where: str) -> tuple[int, ...] | None:
    """``argnums`` as a tuple (None: every argument), or an error naming ``where``."""
    if argnums is None:
        return None
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got {argnums!r}")
    if not items:
        raise ValueError(f"{where}: argnums is an empty tuple; name at least one argument")
    return items


def _resolve(argnums: tuple[int, ...] | None, nargs: int, where: str) -> list[int]:
    if argnums is None:
        return list(range(nargs))
    out = []
    for a in argnums:
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{where}: argnums={a} is out of range for a function called with {nargs} "
                f"argument(s) (valid: 0..{nargs - 1})"
            )
        if a % nargs in out:
            raise ValueError(f"{where}: argnums={argnums!r} names argument {a % nargs} twice; name each once")
        out.append(a % nargs)
    return out


def contains_value(args: Sequence[Any]) -> bool:
    """True when an argument (or an element of a sequence argument) is a Value."""
    for a in args:
        if isinstance(a, Value):
            return True
        if isinstance(a, (list, tuple)) and any(isinstance(x, Value) for x in a):
            return True
    return False


def _wrap_scalar(x: Any, where: str, name: str) -> Value:
    if isinstance(x, Value):
        # A fresh identity node per call: connected to the caller's graph, yet only paths through
        # *this* argument count (the same Value passed twice, or captured by f, is not confused).
        v = apply(ops.SUM, (x,))
    elif is_number(x):
        v = Value(float(x))
    else:
        raise TypeError(
            f"{where}: argument {name} must be a number, a Value or a sequence of them, "
            f"got {type(x).__name__} {x!r:.60}"
        )
    v.label = name
    return v


def _wrap_args(args: tuple, positions: list[int], where: str) -> tuple[list, list[Value], list]:
    """Replace the differentiated arguments by fresh nodes; return (args, flat inputs, shapes).

    Numbers among the other arguments become constant Values, so that ``f`` can call Value
    methods on any scalar it is given; anything else is passed through unchanged.
    """
    new_args = [_constant(a) for a in args]
    flat: list[Value] = []
    shapes: list = []  # None for a scalar argument, else its length
    for i in positions:
        a = args[i]
        if isinstance(a, (list, tuple)):
            wrapped = [_wrap_scalar(x, where, f"x{i}[{j}]") for j, x in enumerate(a)]
            new_args[i] = wrapped
            flat.extend(wrapped)
            shapes.append(len(wrapped))
        else:
            w = _wrap_scalar(a, where, f"x{i}")
            new_args[i] = w
            flat.append(w)
            shapes.append(None)
    return new_args, flat, shapes


def _constant(a: Any) -> Any:
    if is_number(a):
        return Value(float(a))
    if isinstance(a, (list, tuple)) and a and all(is_number(x) for x in a):
        return [Value(float(x)) for x in a]
    return a


def _unflatten(values: list, shapes: list) -> list:
    out, k = [], 0
    for s in shapes:
        if s is None:
            out.append(values[k])
            k += 1
        else:
            out.append(values[k:k + s])
            k += s
    return out


def finish(g: Any, nested: bool) -> Any:
    """A derivative as handed back: a Value inside a transform, a float at the top level."""
    if nested:
        return g if isinstance(g, Value) else Value(float(g))
    return g.data if isinstance(g, Value) else float(g)


def scalar_output(out: Any, where: str) -> Value | float:
    """``out`` as a scalar (a Value or a float), or an error naming ``where``."""
    if isinstance(out, Value):
        return out
    if is_number(out):
        return float(out)
    hint = " (use jacobian for a function returning several values)" if isinstance(
        out, (list, tuple)) else ""
    raise TypeError(
        f"{where}: f must return a scalar (a Value or a number), got {type(out).__name__} "
        f"{out!r:.60}{hint}"
    )


def _call(f: Callable, args: list) -> Any:
    with enable_grad(), tracing():
        return f(*args)


def evaluate(
    f: Callable, args: tuple, argnums: tuple[int, ...] | None, where: str
) -> tuple[bool, list[Value], list, Any]:
    """Call ``f`` on fresh nodes for the differentiated arguments: (nested, flat inputs, shapes, output)."""
    if not args:
        raise TypeError(f"{where}: the function needs at least one argument to differentiate")
    nested = _TRACE.depth > 0 or contains_value(args)
    positions = _resolve(argnums, len(args), where)
    new_args, flat, shapes = _wrap_args(args, positions, where)
    return nested, flat, shapes, _call(f, new_args)


# --- the transforms ------------------------------------------------------------------------------
def fn_name(f: Callable) -> str:
    """A function's name for a transform's ``__name__``."""
    return getattr(f, "__name__", type(f).__name__)


def grad(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The gradient of a scalar function, as a function: ``grad(f)(x) = df/dx``.

    ``argnums`` picks the argument(s) to differentiate (a tuple gives a tuple of derivatives); a
    sequence argument gives a list.  Compose freely: ``grad(grad(f))`` is the second derivative.

    >>> grad(lambda x, y: x * y + y, argnums=1)(3.0, 4.0)
    4.0
    >>> grad(lambda xs: xs[0] * xs[1])([3.0, 4.0])
    [4.0, 3.0]
    """
    vg = _value_and_grad(f, argnums, "grad")

    def grad_f(*args: Any) -> Any:
        return vg(args)[1]

    grad_f.__name__ = f"grad({fn_name(f)})"
    grad_f.__doc__ = f"Gradient of {fn_name(f)}."
    return grad_f


def value_and_grad(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """Like :func:`grad`, but the new function returns ``(f(*args), gradient)``.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    vg = _value_and_grad(f, argnums, "value_and_grad")

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        return vg(args)

    value_and_grad_f.__name__ = f"value_and_grad({fn_name(f)})"
    value_and_grad_f.__doc__ = f"Value and gradient of {fn_name(f)}."
    return value_and_grad_f


def _value_and_grad(f: Callable, argnums: Any, where: str) -> Callable[[tuple], tuple[Any, Any]]:
    spec = check_argnums(argnums, where)
    as_tuple = isinstance(argnums, tuple)

    def run(args: tuple) -> tuple[Any, Any]:
        with enable_grad():
            nested, flat, shapes, out = evaluate(f, args, spec, where)
            out = scalar_output(out, where)
            gs = gradients(out, flat, create_graph=nested)
        parts = _unflatten([finish(g, nested) for g in gs], shapes)
        return finish(out, nested), (tuple(parts) if as_tuple else parts[0])

    return run


def jacobian(f: Callable, argnums: int | tuple[int, ...] | None = None) -> Callable:
    """The Jacobian of a function returning a sequence: an m x n nested list, ``J[i][j] = d f_i / d x_j``.

    The n columns are all the scalars of the arguments in order (every argument unless ``argnums``
    picks some), so ``f(x, y, z)`` and ``f([x, y, z])`` both give m x 3.  Reverse mode: one
    backward sweep per output (see :func:`autograd.jacfwd` for one forward sweep per input).

    >>> jacobian(lambda x, y: [x * y, x + y])(2.0, 3.0)
    [[3.0, 2.0], [1.0, 1.0]]
    """
    return _jacobian_transform(f, argnums, "jacobian")


def jacrev(f: Callable, argnums: int | tuple[int, ...] | None = None) -> Callable:
    """:func:`jacobian` under the name JAX gives it beside ``jacfwd``: reverse mode, a sweep per output.

    >>> jacrev(lambda x, y: [x * y, x + y])(2.0, 3.0)
    [[3.0, 2.0], [1.0, 1.0]]
    """
    return _jacobian_transform(f, argnums, "jacrev")


def _jacobian_transform(f: Callable, argnums: Any, where: str) -> Callable:
    spec = check_argnums(argnums, where)

    def jacobian_f(*args: Any) -> list[list[Any]]:
        with enable_grad():
            return _jacobian(f, args, spec, where)

    jacobian_f.__name__ = f"{where}({fn_name(f)})"
    jacobian_f.__doc__ = f"Jacobian of {fn_name(f)}."
    return jacobian_f


def _jacobian(f: Callable, args: tuple, spec: Any, where: str) -> list[list[Any]]:
    nested, flat, _, out = evaluate(f, args, spec, where)
    outputs = sequence_output(out, where)
    return [[finish(g, nested) for g in gradients(y, flat, nested)] for y in outputs]


def sequence_output(out: Any, where: str) -> list[Value | float]:
    """The outputs of a function whose Jacobian is asked for: a sequence of scalars."""
    if not isinstance(out, (list, tuple)):
        raise TypeError(
            f"{where}: f must return a sequence of scalars, got {type(out).__name__} "
            f"{out!r:.60} (use grad for a scalar function)"
        )
    return [scalar_output(y, f"{where}: output {i}") for i, y in enumerate(out)]


def hessian(f: Callable, argnums: int | tuple[int, ...] | None = None) -> Callable:
    """The Hessian of a scalar function: an n x n nested list, ``H[i][j] = d2f / dx_i dx_j``.

    Columns are laid out as in :func:`jacobian`; the matrix is symmetric for smooth ``f``.

    >>> hessian(lambda x, y: x * x * y)(3.0, 2.0)
    [[4.0, 6.0], [6.0, 0.0]]
    """
    spec = check_argnums(argnums, "hessian")

    def hessian_f(*args: Any) -> list[list[Any]]:
        with enable_grad():
            nested, flat, _, out = evaluate(f, args, spec, "hessian")
            out = scalar_output(out, "hessian")
            first = gradients(out, flat, create_graph=True)
            return [[finish(h, nested) for h in gradients(g, flat, nested)] for g in first]

    hessian_f.__name__ = f"hessian({fn_name(f)})"
    hessian_f.__doc__ = f"Hessian of {fn_name(f)}."
    return hessian_f


def hvp(f: Callable) -> Callable:
    """Hessian-vector product ``hvp(f)(x, v) = H(x) v`` in two reverse passes, never forming H.

    ``f`` is called as ``f(x)``: ``x`` is a number or a sequence of numbers and ``v`` has the same
    shape (for ``f`` of several scalars use ``hvp(lambda xs: f(*xs))``).  It is the gradient of
    ``dot(grad f(x), v)``.

    >>> hvp(lambda xs: xs[0] ** 2 * xs[1])([3.0, 2.0], [1.0, 0.0])
    [4.0, 6.0]
    """

    def hvp_f(x: Any, v: Any) -> Any:
        with enable_grad():
            return _hvp(f, x, v)

    hvp_f.__name__ = f"hvp({fn_name(f)})"
    hvp_f.__doc__ = f"Hessian-vector product of {fn_name(f)}."
    return hvp_f


def _hvp(f: Callable, x: Any, v: Any) -> Any:
    scalar = not isinstance(x, (list, tuple))
    vs = [v] if scalar else v
    if not isinstance(vs, (list, tuple)) or len(vs) != (1 if scalar else len(x)):
        raise ValueError(
            f"hvp: v must have the shape of x ({'a scalar' if scalar else f'{len(x)} scalars'}), "
            f"got {v!r:.60}"
        )
    for j, vj in enumerate(vs):
        if not (is_number(vj) or isinstance(vj, Value)):
            raise TypeError(f"hvp: v[{j}] must be a number or a Value, got {type(vj).__name__}")
    nested, flat, _, out = evaluate(f, (x,), None, "hvp")
    nested = nested or contains_value(vs)
    out = scalar_output(out, "hvp")
    first = gradients(out, flat, create_graph=True)
    # <grad f, v> as one dot node; its gradient is H v (H symmetric).
    inner = apply(ops.DOT, (*first, *vs))
    hv = [finish(h, nested) for h in gradients(inner, flat, nested)]
    return hv[0] if scalar else hv
