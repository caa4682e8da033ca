"""Value's arithmetic and the float backward steps, generated from the op table's rules: a named
optimisation of :func:`autograd.value.apply` and of fast_backward.py's loop.

value.py says what an operator does (``x * y`` is ``apply(OPS["mul"], (x, y))``).  For each built-in op
this module writes the same work as straight-line Python: the forward rule evaluated on the symbolic
backend (tape/symbols.py, as the tape's code generator does) gives the expression (mul: ``x0 * x1``),
pasted into a Value method that makes the node without the table lookup, the backend argument or a
list of operands; the partials rule gives the op's backward step (mul: ``p0.grad += g * x1``), which
fast_backward.py runs.  Anything off the common path (an operand that is no Value, float or int, an
open no_grad or detect_anomaly block, a math error, a result that is no float) goes to ``apply``,
which does and says what it always does.  A method whose op is replaced (``defop(..., replace=True)``)
is value.py's own again until the built-in op is put back (the table tells :func:`refresh` of every write).
tests/autograd/test_fastpath.py checks every generated path against apply and chain_rule.
"""

from __future__ import annotations

import linecache
import re
from typing import Any, Callable

from . import table
from .backends import FLOAT, backend
from .modes import OPEN_BLOCKS, OWN_WORK, refuse_in_own_work
from .ops import Op
from .table import BUILTINS, OPS
from .tape.symbols import NAMESPACE, SYM, Sym, literal, render
from .value import SEQ, Value, apply

__all__ = ["METHODS", "GENERIC", "INLINE", "refresh", "step_source", "method_source"]

# Value's methods made here: name -> (the ops it reads, its operands in the op's order).  Each is what
# value.py's method of that name does (the test compares them); leaky_relu and elu (parameters) stay there.
METHODS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{f"__{m}__": ((op,), ("self", "other")) for m, op in (("add", "add"), ("sub", "sub"), ("mul", "mul"),
                                                            ("truediv", "div"))},
    **{f"__r{m}__": ((op,), ("other", "self")) for m, op in (("add", "add"), ("sub", "sub"), ("mul", "mul"),
                                                             ("truediv", "div"), ("pow", "pow"))},
    "__neg__": (("neg",), ("self",)),
    "__abs__": (("abs",), ("self",)),
    "swish": (("swish",), ("self", "other")),
    "__pow__": (("pow", "pow_const"), ("self", "other")),
    **{name: ((name,), ("self",)) for name in ("abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu",
                                               "selu", "softplus")},
}
# value.py's own methods; a generated one names the one it stands for as ``__wrapped__`` (as functools.wraps does),
# so that a second run of this module (importlib.reload) finds value.py's methods under its own
GENERIC: dict[str, Callable[..., Any]] = {name: getattr(Value.__dict__[name], "__wrapped__", Value.__dict__[name])
                                          for name in METHODS}


def _written_out(compare: str, on_floats: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """maximum (``>=``) or minimum (``<=``) on symbols as an expression rather than a call, where both operands
    are names or numbers: the first operand where it wins or ties or is NaN, else the second (backends.FLOAT's)."""
    def pick(a: Any, b: Any) -> Any:
        if not (type(a) is Sym or type(b) is Sym):
            return on_floats(a, b)
        if not all(type(x) is float or type(x) is Sym and x.kind == "name" for x in (a, b)):
            return SYM.maximum(a, b) if compare == ">=" else SYM.minimum(a, b)
        return Sym("if", "", (a, Sym("op", compare, (a, b)), Sym("if", "", (b, Sym("op", "==", (a, a)), a))))
    return pick


# The symbolic backend, with maximum and minimum (relu's forward) written out: no call in the generated code
INLINE = backend({"maximum": _written_out(">=", FLOAT.maximum), "minimum": _written_out("<=", FLOAT.minimum)},
                 lambda name: getattr(SYM, name))

_BINARY = """\
def generated(self, {other}):
    {value}if type({other}) is float:
        x{k} = {other}
        ps = None
    elif type({other}) is int:
        try:
            x{k} = float({other})
        except OverflowError:
            return {fallback}
        ps = None
    else:
        return {fallback}
"""
_VALUE = """if type({other}) is Value:
        x1 = {other}.data
        ps = (self, {other})
    el"""
_UNARY = """\
def generated(self):
"""
_FORWARD = """\
    try:
        x{k_self} = self.data  # self may be a number: Value.__add__(0.0, x), as value.py's method allows
        data = {forward}
    except Exception:  # apply says what went wrong
        return {fallback}
    if type(data) is not float or OPEN_BLOCKS[0]:  # or inside no_grad or detect_anomaly
        return {fallback}
"""
# a number operand becomes a constant leaf, made before the node (creation order is topological order)
_CONSTANT = """\
    if ps is None:
        c = new(Value)
        c.data = x{k}
        c.grad = 0.0
        c.label = ""
        c.fn = None
        c.parents = ()
        c._seq = next(SEQ)
        ps = {parents}
"""
_NODE = """\
    v = new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.fn = OP
    v.parents = {parents}
    v._seq = next(SEQ)
    return v
"""


def method_source(op: Op, operands: tuple[str, ...], other: str = "other") -> str:
    """Source of ``generated(self[, other])``, making the node ``op(*operands)`` as :func:`apply` does: the
    forward rule on symbols x0, x1 ... is the expression it computes; ``other`` names that parameter."""
    fallback = f"apply(OP, ({', '.join(other if o == 'other' else o for o in operands)},))"
    forward = render(op.forward_on(INLINE, *[Sym.name(f"x{i}") for i in range(len(operands))], on="symbols"))
    k_self = operands.index("self")
    compute = _FORWARD.format(fallback=fallback, forward=forward, k_self=k_self)
    if operands == ("self",):
        return _UNARY + compute + _NODE.format(parents="(self,)")
    k = operands.index("other")  # the operand that may be a number (a reflected method meets numbers only)
    value = _VALUE.format(other=other) if k == 1 else ""
    head = _BINARY.format(k=k, value=value, fallback=fallback, other=other)
    constant = _CONSTANT.format(k=k, parents="(self, c)" if k == 1 else "(c, self)")
    return head + compute + constant + _NODE.format(parents="ps")


def step_source(op: Op, n: int) -> str:
    """Source of ``step(node, g)``: add ``g`` times each local derivative to the parents' gradients, as
    fast_backward.py's loop does with ``op.partials`` (every derivative computed before any is added)."""
    xs = [Sym.name(f"x{i}") for i in range(n)]
    ds = op.checked_partials(INLINE, Sym.name("out"), *xs, on="symbols")
    body, adds = [], []
    for i, d in enumerate(ds):
        if type(d) is not Sym:  # a number: g itself for 1, a subtraction for -1 (the same floats as g * d)
            adds.append(f"    p{i}.grad += g" if d == 1.0 else f"    p{i}.grad -= g" if d == -1.0
                        else f"    p{i}.grad += g * {literal(d)}")
        elif d.kind == "name":
            adds.append(f"    p{i}.grad += g * {d.text}")
        else:
            body.append(f"    d{i} = {render(d)}")
            adds.append(f"    p{i}.grad += g * d{i}")
    text = "\n".join(body + adds)
    head = ["    if OWN_WORK[0]:  # an exercise's check runs: refused, as node._backward() and backward() are",
            '        refuse_in_own_work("Op.float_step (the engine\'s backward step)")']
    head += [f"    {', '.join(f'p{i}' for i in range(n))}{',' if n == 1 else ''} = node.parents"]
    head += [f"    x{i} = p{i}.data" for i in range(n) if re.search(rf"\bx{i}\b", text)]
    head += ["    out = node.data"] if re.search(r"\bout\b", text) else []
    return "\n".join(["def generated(node, g):", *head, text]) + "\n"


def _compile(source: str, op: Op, what: str, **more: Any) -> Callable[..., Any]:
    """The function ``generated`` that ``source`` defines, run with the names generated code reads; ``what`` it is
    (a method, a step) names its file in tracebacks, and its last part the function there (``in __mul__``)."""
    namespace = dict(NAMESPACE, __name__=__name__, OP=op, Value=Value, apply=apply, OPEN_BLOCKS=OPEN_BLOCKS,
                     new=object.__new__, SEQ=SEQ, **more)
    filename = f"<autograd.fastpath: {what} of {op.label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # tracebacks show the code
    exec(compile(source, filename, "exec"), namespace)
    fn: Callable[..., Any] = namespace["generated"]
    fn.__code__ = fn.__code__.replace(co_name=what.split(".")[-1])
    return fn


def _fast_method(name: str) -> Callable[..., Any]:
    ops, operands = METHODS[name]
    generic = GENERIC[name]
    if name == "__pow__":  # a number exponent binds pow_const: one method per exponent, made on first use
        fn = _compile(_POW, BUILTINS["pow_const"], "Value.__pow__", POWERS=_POWERS, power=_power)
    else:
        parameters = generic.__code__.co_varnames[:generic.__code__.co_argcount]  # value.py's names: x.swish(beta=2)
        fn = _compile(method_source(BUILTINS[ops[0]], operands, *parameters[1:]), BUILTINS[ops[0]], f"Value.{name}")
    fn.__name__, fn.__qualname__, fn.__doc__ = name, f"Value.{name}", generic.__doc__
    fn.__defaults__ = generic.__defaults__  # x.swish(): beta=1.0
    fn.__wrapped__ = generic  # type: ignore[attr-defined]
    return fn


_POW = """\
def generated(self, n):
    if type(n) is float or type(n) is int:
        f = POWERS.get(n)
        if f is not None:
            return f(self)
    return power(self, n)
"""
_POWERS: dict[float, Callable[[Value], Value]] = {}  # exponent -> x ** exponent's generated method


def _power(x: Value, n: Any) -> Value:
    """``x ** n`` the first time ``n`` is met: value.py's way, and the exponent's method made for next time."""
    y: Value = GENERIC["__pow__"](x, n)  # first: it says what is wrong with n
    if (type(n) is float or type(n) is int) and n == n and len(_POWERS) < 256:  # exponents drawn at random: apply
        op = BUILTINS["pow_const"].bind(n=n)
        _attach_step(op)
        _POWERS[n] = _compile(method_source(op, ("self",)), op, "Value.__pow__")
    return y


def _attach_step(op: Op) -> None:
    if op.arity is not None and op.float_step is None and (op.bound or not op.params):
        op.float_step = _compile(step_source(op, op.arity), op, "backward step", OWN_WORK=OWN_WORK,
                                 refuse_in_own_work=refuse_in_own_work)


def refresh(name: str) -> None:
    """Put on Value the generated method of each name that reads op ``name`` while every op it reads is the
    built-in one, and value.py's own method otherwise (the table calls this after each write)."""
    for method, (ops, _) in METHODS.items():
        if name in ops:
            built_in = all(OPS.get(op) is BUILTINS[op] for op in ops)
            setattr(Value, method, _FAST[method] if built_in else GENERIC[method])


for _op in BUILTINS.values():
    _attach_step(_op)
_FAST = {name: _fast_method(name) for name in METHODS}
for _name in BUILTINS:
    refresh(_name)
table.WATCHERS[:] = [w for w in table.WATCHERS if w.__module__ != __name__] + [refresh]  # once, also if reloaded
