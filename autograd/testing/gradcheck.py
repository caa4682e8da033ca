"""Gradient checks: compare the engine's derivatives with central finite differences."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

from .. import ops
from ..backends import FLOAT, VALUE
from ..functional import gradients, tracing
from ..graph import topological_order
from ..modes import enable_grad, no_grad
from ..value import Value, apply

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]

_MATH_ERRORS = (ArithmeticError, ValueError)
_MAX_SUSPECT_NODES = 2000  # per failing check: enough for any graph a test builds


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives differ; the message tabulates both for every input."""


def gradcheck(
    f: Callable[..., Any],
    inputs: Any = (),
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    params: Iterable[Value] | None = None,
) -> bool:
    """Check first derivatives against central differences; True, or raise :class:`GradcheckError`.

    ``f(*inputs)`` must return a Value (or a sequence of Values: every entry of the Jacobian is
    checked).  Each input is a number or a sequence of numbers, and each of those scalars is
    checked.  For a module (anything with ``.parameters()``), or when ``params`` is given, the
    parameters are checked instead and ``inputs`` are passed unchanged; parameters are perturbed
    in place and always restored.  An entry passes when ``|analytic - numeric| <= atol + rtol *
    |numeric|``.

    >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -1.2])
    True
    """
    check = _Check(f, inputs, params, eps, "gradcheck")
    analytic = check.first_derivatives()
    graph = check.last_outputs  # the graph at the point itself, searched for a culprit on failure
    numeric = check.numeric(lambda: [_number(y) for y in check.outputs_no_grad()])
    check.compare(analytic, numeric, atol, rtol, order=1, graph=graph)
    return True


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Any = (),
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    params: Iterable[Value] | None = None,
) -> bool:
    """Check second derivatives: the Hessian built with create_graph against differences of the gradient.

    Same arguments as :func:`gradcheck`; for several outputs each output's Hessian is checked.

    >>> gradgradcheck(lambda x, y: (x * y).tanh(), [0.3, -1.2])
    True
    """
    check = _Check(f, inputs, params, eps, "gradgradcheck")
    analytic = check.second_derivatives()
    graph = check.last_outputs
    numeric = check.numeric(check.first_derivatives)
    check.compare(analytic, numeric, atol, rtol, order=2, graph=graph)
    return True


def _number(y: Any) -> float:
    return y.data if isinstance(y, Value) else float(y)


class _Check:
    """The variables of one check, how to evaluate f at them, and how to report the result."""

    def __init__(self, f: Callable, inputs: Any, params: Any, eps: float, where: str) -> None:
        if not callable(f):
            raise TypeError(f"{where}: f must be callable, got {type(f).__name__}")
        if not (isinstance(eps, (int, float)) and eps > 0.0):
            raise ValueError(f"{where}: eps must be a positive number, got {eps!r}")
        self.f, self.eps, self.where = f, float(eps), where
        if isinstance(inputs, (int, float, Value)) and not isinstance(inputs, bool):
            inputs = (inputs,)
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"{where}: inputs must be a sequence of arguments, got {type(inputs).__name__}")
        self.args = list(inputs)
        parameters = getattr(f, "parameters", None)
        if params is None and callable(parameters):
            params = parameters()
        if params is not None:
            # A model: its parameters are the variables, the inputs are data passed as given.
            self.variables = list(params)
            for i, p in enumerate(self.variables):
                if not isinstance(p, Value):
                    raise TypeError(f"{where}: parameter {i} is {type(p).__name__}, not a Value")
            self.names = [p.label or f"param[{i}]" for i, p in enumerate(self.variables)]
            self.call_args = lambda: self.args
        else:
            self.variables, self.names, shapes = [], [], []
            for i, a in enumerate(self.args):
                items = a if isinstance(a, (list, tuple)) else [a]
                for j, x in enumerate(items):
                    number = x.data if isinstance(x, Value) else x
                    if isinstance(number, bool) or not isinstance(number, (int, float)):
                        raise TypeError(f"{where}: input {i} must be a number or a sequence of numbers, "
                                        f"got {type(x).__name__}")
                    name = f"x{i}[{j}]" if isinstance(a, (list, tuple)) else f"x{i}"
                    self.variables.append(Value(float(number), label=name))
                    self.names.append(name)
                shapes.append(len(items) if isinstance(a, (list, tuple)) else None)

            def call_args() -> list:
                out, k = [], 0
                for s in shapes:
                    if s is None:
                        out.append(self.variables[k])
                        k += 1
                    else:
                        out.append(self.variables[k:k + s])
                        k += s
                return out

            self.call_args = call_args
        if not self.variables:
            raise ValueError(f"{where}: nothing to check (no inputs and no parameters)")

    # --- evaluating f ------------------------------------------------------------------------
    def outputs(self) -> list[Value | float]:
        with enable_grad(), tracing():
            out = self.f(*self.call_args())
        if isinstance(out, (list, tuple)):
            ys = list(out)
        else:
            ys = [out]
        for k, y in enumerate(ys):
            if not isinstance(y, (Value, int, float)) or isinstance(y, bool):
                raise TypeError(f"{self.where}: f must return a Value or a sequence of Values; output "
                                f"{k} is {type(y).__name__}")
        self.last_outputs = ys
        return ys

    def outputs_no_grad(self) -> list[Value | float]:
        with no_grad():
            out = self.f(*self.call_args())
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def first_derivatives(self) -> list[list[float]]:
        """rows[output][variable] = d output / d variable (floats)."""
        return [[_number(g) for g in gradients(y, self.variables)] for y in self.outputs()]

    def second_derivatives(self) -> list[list[float]]:
        """rows[output * n + i][j] = d2 output / d variable_i d variable_j."""
        rows = []
        for y in self.outputs():
            for g in gradients(y, self.variables, create_graph=True):
                rows.append([_number(h) for h in gradients(g, self.variables)])
        return rows

    def numeric(self, evaluate: Callable[[], Any]) -> list[list[float]]:
        """Central differences of ``evaluate()`` (a list, or a list of rows) in every variable."""
        columns = []
        for k, v in enumerate(self.variables):
            original = v.data
            try:
                v.data = original + self.eps
                plus = _flat(self._at(evaluate, k, "+"))
                v.data = original - self.eps
                minus = _flat(self._at(evaluate, k, "-"))
            finally:
                v.data = original  # never leave a model half-perturbed
            columns.append([(a - b) / (2.0 * self.eps) for a, b in zip(plus, minus)])
        n = len(self.variables)
        return [[columns[j][r] for j in range(n)] for r in range(len(columns[0]))]

    def _at(self, evaluate: Callable[[], Any], k: int, sign: str) -> Any:
        try:
            return evaluate()
        except _MATH_ERRORS as e:
            raise GradcheckError(
                f"{self.where}: f failed at {self.names[k]} {sign} eps (eps={self.eps:g}): "
                f"{type(e).__name__}: {e}; move the point away from the edge of the domain or use a "
                "smaller eps"
            ) from None

    # --- reporting -----------------------------------------------------------------------------
    def compare(
        self, analytic: list, numeric: list, atol: float, rtol: float, order: int, graph: list
    ) -> None:
        n = len(self.variables)
        lines, bad = [], 0
        for r, (arow, nrow) in enumerate(zip(analytic, numeric)):
            for j, (a, b) in enumerate(zip(arow, nrow)):
                ok = math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(b)
                bad += not ok
                if order == 1:
                    what = f"d y{r} / d {self.names[j]}"
                else:
                    what = f"d2 y{r // n} / d {self.names[r % n]} d {self.names[j]}"
                lines.append((what, a, b, abs(a - b), "" if ok else "  <-- MISMATCH"))
        if not bad:
            return
        kind = "derivatives" if order == 1 else "second derivatives"
        width = max(len(w) for w, *_ in lines)
        table = [f"{'entry':<{width}}  {'analytic':>14}  {'numeric':>14}  {'|diff|':>9}"]
        shown = [row for row in lines if row[4]][:50] + [row for row in lines if not row[4]][:10]
        for what, a, b, d, flag in shown:
            table.append(f"{what:<{width}}  {a:>14.8g}  {b:>14.8g}  {d:>9.2e}{flag}")
        if len(shown) < len(lines):
            table.append(f"... ({len(lines) - len(shown)} more passing entries not shown)")
        message = (
            f"{self.where}: {bad} of {len(lines)} {kind} differ from central differences "
            f"(eps={self.eps:g}, atol={atol:g}, rtol={rtol:g}):\n" + "\n".join(table)
        )
        suspects = _suspects(graph, self.eps, atol, rtol, order)
        if suspects:
            message += (
                f"\nops whose own {'derivative' if order == 1 else 'second derivative'} rule disagrees "
                "with central differences at the points used:\n" + "\n".join(suspects)
            )
        raise GradcheckError(message)


def _flat(x: Any) -> list[float]:
    if x and isinstance(x[0], list):
        return [float(v) for row in x for v in row]
    return [_number(v) for v in x]


# --- locating the culprit: check every op of the graph on its own --------------------------------
def _suspects(outputs: Sequence[Any], eps: float, atol: float, rtol: float, order: int) -> list[str]:
    """One line per op node whose table rule disagrees with differences of the rule one order below."""
    roots = [y for y in outputs if isinstance(y, Value)]
    seen, found = set(), []
    for node in topological_order(roots)[:_MAX_SUSPECT_NODES]:
        op = node.fn
        if op is None:
            continue
        args = tuple(p.data for p in node.parents)
        key = (id(op), args)
        if key in seen:
            continue
        seen.add(key)
        try:
            problem = _check_op(op, args, eps, atol, rtol, order)
        except (*_MATH_ERRORS, TypeError, AttributeError, NotImplementedError) as e:
            problem = f"could not be checked here ({type(e).__name__}: {e})"
        if problem:
            operands = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in op.bound])
            found.append(f"  {op.name}({operands}): {problem}")
    return found[:20]


def _check_op(op: ops.Op, args: tuple, eps: float, atol: float, rtol: float, order: int) -> str:
    def first(xs: Sequence[float]) -> tuple:
        return tuple(op.partials(FLOAT, op.forward(FLOAT, *xs), *xs))

    lower: Callable[[Sequence[float]], Sequence[Any]]
    if order == 1:
        analytic = [[float(d) for d in first(args)]]
        lower = lambda xs: [op.forward(FLOAT, *xs)]  # noqa: E731
    else:
        leaves = [Value(a) for a in args]
        with enable_grad():
            node = apply(op, leaves)
            ds = op.partials(VALUE, node, *leaves)
            analytic = [[_number(h) for h in gradients(d, leaves)] for d in ds]
        lower = first
    problems = []
    for j in range(len(args)):
        up = list(args)
        up[j] += eps
        down = list(args)
        down[j] -= eps
        for i, (u, d) in enumerate(zip(lower(up), lower(down))):
            numeric = (float(u) - float(d)) / (2.0 * eps)
            a = analytic[i][j]
            if not (abs(a - numeric) <= atol + rtol * abs(numeric)):
                which = f"d/d input {j}" if order == 1 else f"d2/d input {i} d input {j}"
                problems.append(f"{which}: rule gives {a:.8g}, central differences {numeric:.8g}")
    return "; ".join(problems)
