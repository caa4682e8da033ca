"""fastpath.py's generated code does what value.py's methods and fast_backward.py's partials do.

Every generated Value method is compared with value.py's own (``fastpath.GENERIC``): the same number
(bit for bit, sign of zero and NaN included), the same op, the same parents (numbers as constant
leaves), the same error and message; every generated backward step with the op's partials rule; in
every mode (no_grad, detect_anomaly, own_work) and with ops replaced.
"""

import contextlib
import math

import pytest

from autograd import Value, defop, detect_anomaly, enable_grad, fastpath, no_grad, ops
from autograd.backends import FLOAT
from autograd.modes import AnomalyError, OwnWorkError, own_work
from autograd.table import BUILTINS, OPS
from autograd.value import chain_rule

NUMBERS = [0.7, -1.3, 0.0, -0.0, 2.0, 1e300, -1e-300, math.inf, -math.inf, math.nan, 3, 0, -2, 10**400, True,
           "2", None]


def key(x):
    """A float as stored (NaN equals NaN, 0.0 is not -0.0); anything else as it is."""
    if type(x) is not float:
        return x
    return "nan" if x != x else (x, math.copysign(1.0, x))


def same(a, b):
    return type(a) is type(b) and key(a) == key(b)


def outcome(method, *args):
    """What a call gives: the node (its data, op, label, gradient and parents: an argument by position, a
    constant leaf by its number), or the error's type and words."""
    try:
        v = method(*args)
    except Exception as e:
        return (type(e), str(e))
    parents = tuple(("argument", [a is p for a in args].index(True)) if any(a is p for a in args)
                    else ("leaf", key(p.data), p.parents, p.fn) for p in v.parents)
    made_after = all(p._seq < v._seq for p in v.parents)  # creation order stays a topological order
    return (type(v), key(v.data), v.fn, v.label, key(v.grad), parents, made_after)


def calls(name):
    """The calls each method is tried on: every kind of operand, and the numbers where rules fail or turn."""
    operands = fastpath.METHODS[name][1]
    if len(operands) == 1:
        return [(x,) for x in NUMBERS if type(x) is float or type(x) is int and x < 10**300]
    found = [(x, y) for x in (0.7, -1.3, 0.0, 2.0, math.inf, math.nan) for y in NUMBERS]
    if operands[0] == "self":  # x.op(other): other a Value too
        found += [(x, Value(y)) for x in (0.7, -0.0, 2.0) for y in (0.5, -0.0, -3.0, math.nan)]
    return found


@contextlib.contextmanager
def _enable_grad_inside_no_grad():
    with no_grad(), enable_grad():
        yield


MODES = {"recording": contextlib.nullcontext, "no_grad": no_grad, "detect_anomaly": detect_anomaly,
         "enable_grad inside no_grad": _enable_grad_inside_no_grad, "own_work": lambda: own_work("an exercise")}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", sorted(fastpath.METHODS))
def test_each_generated_method_makes_what_value_py_s_method_makes(name, mode):
    generated, generic = getattr(Value, name), fastpath.GENERIC[name]
    assert generated is not generic and generated.__module__ == "autograd.fastpath"
    for x, *rest in calls(name):
        args = (Value(x), *rest)
        with MODES[mode]():
            got, want = outcome(generated, *args), outcome(generic, *args)
        assert got == want, (x, *rest)
        if len(got) == 2:  # an error: its words name the op (apply's words, never the generated code's)
            assert "generated" not in got[1] and "x0" not in got[1]


@pytest.mark.parametrize("name", sorted(fastpath.METHODS))
def test_the_generated_methods_keep_value_py_s_name_words_and_parameters(name):
    """Same name, docstring, parameter names and defaults: ``x.swish()`` (beta=1.0), ``x.swish(beta=2.0)``."""
    import inspect

    fn, generic = getattr(Value, name), fastpath.GENERIC[name]
    assert fn.__name__ == name and fn.__qualname__ == f"Value.{name}" and fn.__doc__ == generic.__doc__

    def parameters(f):
        return [(p.name, p.kind, p.default) for p in inspect.signature(f, follow_wrapped=False).parameters.values()]
    assert parameters(fn) == parameters(generic)
    assert fn.__code__.co_name == name  # a traceback or a profile says "in __mul__", not "in generated"


def test_swish_and_pow_take_their_parameters_by_name_and_default():
    x = Value(1.5)
    for call in (lambda v: v.swish(), lambda v: v.swish(beta=2.0), lambda v: v.swish(beta=Value(0.5)),
                 lambda v: v.__pow__(n=3), lambda v: v.__rpow__(base=2.0), lambda v: v.__add__(other=1.0)):
        assert outcome(call, x) == outcome(_on_value_py_s_methods(call), x)
    assert x.swish().data == 1.5 / (1.0 + math.exp(-1.5))


def _on_value_py_s_methods(call):
    """``call``, run with value.py's methods in place of the generated ones."""
    def generic(v):
        try:
            for name in fastpath.METHODS:
                setattr(Value, name, fastpath.GENERIC[name])
            return call(v)
        finally:
            for name in OPS:
                fastpath.refresh(name)
    return generic


def _grads(root, leaves, fast):
    for v in leaves:
        v.grad = 0.0
    if fast:
        root.backward()
    else:  # the chain rule written once, as the grads it computes
        grads = chain_rule(sorted(_all(root), key=lambda v: -v._seq), {root: 1.0})
        for v in leaves:
            v.grad = grads.get(v, 0.0)
    return [v.grad for v in leaves]


def _gradient(root, leaf, fast):
    try:
        return key(_grads(root, [leaf], fast)[0])
    except ArithmeticError as e:
        return type(e)


def _all(root):
    seen, stack = {}, [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v.parents)
    return seen.values()


STEPS = sorted((name, op) for name, op in BUILTINS.items() if op.float_step is not None)
POINTS = [-2.5, -1.0, -0.3, -0.0, 0.0, 0.4, 1.0, 2.0, 3.5, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", [n for n, _ in STEPS])
def test_each_generated_step_adds_what_the_partials_rule_gives(name):
    op = BUILTINS[name]
    for xs in ([[x] for x in POINTS] if op.arity == 1 else [[a, b] for a in POINTS for b in POINTS[::2]]):
        ps = [Value(x) for x in xs]
        try:
            out = op.forward(FLOAT, *xs)
            want = op.rule(FLOAT, out, *xs)
        except (ArithmeticError, ValueError):
            continue
        node = object.__new__(Value)
        node.data, node.grad, node.label, node.fn, node.parents, node._seq = out, 0.0, "", op, tuple(ps), 0
        for p in ps:
            p.grad = 0.25
        op.float_step(node, 1.5)
        for p, d in zip(ps, want):
            assert same(p.grad, 0.25 + 1.5 * d), (name, xs, p.grad, d)
    assert {n for n, _ in STEPS} >= {"add", "sub", "mul", "div", "neg", "exp", "log", "tanh", "relu", "sigmoid",
                                     "swish", "pow", "pow_const"} - {"pow_const"}  # pow_const: once bound


@pytest.mark.parametrize("n", [2, 2.0, 3, -1, -0.5, 0.5, 0, 1, 1.5, -2.0])
def test_powers_get_a_generated_method_and_step_with_the_bound_op_s_rules(n):
    for x in (0.7, -1.3, 0.0, 2.0, -0.0, math.inf):
        a, b = Value(x), Value(x)
        got, want = outcome(Value.__pow__, a, n), outcome(fastpath.GENERIC["__pow__"], b, n)
        assert got == want, (x, n)
        if len(got) > 2:
            y, z = a ** n, b ** n
            assert y.fn is z.fn is OPS["pow_const"].bind(n=n) and y.fn.float_step is not None
            assert _gradient(y, a, True) == _gradient(z, b, False), (x, n)
    bad = [outcome(Value.__pow__, Value(2.0), e) for e in (True, "2", 10**400, [2])]
    assert bad == [outcome(fastpath.GENERIC["__pow__"], Value(2.0), e) for e in (True, "2", 10**400, [2])]


def _program(values):
    a, b, c = values
    h = (a * b * 0.5 + a ** 2 * 0.1 - (b - 1.5).relu() + 2 * c.tanh()) / (c.exp() + 1)
    return (h.sigmoid() * h.sqrt().abs() + (3 - a).sin().cos() + (-b).softplus().log() + h.selu().swish(c)
            + 2 ** c + 1 / (a - 4) - a ** c)


def test_a_program_s_numbers_and_gradients_are_the_generic_path_s_bit_for_bit():
    fast = [Value(x) for x in (0.9, 1.7, 0.3)]
    y = _program(fast)
    try:
        for name in fastpath.METHODS:  # value.py's methods, as after a replacement
            setattr(Value, name, fastpath.GENERIC[name])
        slow = [Value(x) for x in (0.9, 1.7, 0.3)]
        z = _program(slow)
    finally:
        for name in OPS:
            fastpath.refresh(name)
    assert same(y.data, z.data) and _structure(y) == _structure(z)  # what trace records, drawings show
    assert [same(g, h) for g, h in zip(_grads(y, fast, True), _grads(z, slow, False))] == [True] * 3


def _structure(root):
    """The graph in creation order: each node's op, label, number and parents (by position in that order)."""
    nodes = sorted(_all(root), key=lambda v: v._seq)
    where = {id(v): i for i, v in enumerate(nodes)}
    return [(v.fn, v.op_label, key(v.data), [where[id(p)] for p in v.parents]) for v in nodes]


def test_no_grad_and_detect_anomaly_are_honoured():
    x = Value(2.0)
    with no_grad():
        for y in (x * 3, 3 * x, x * x, x.relu(), x ** 2, -x, x.exp()):
            assert y.parents == () and y.fn is None
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="mul"):
            x * math.inf
        with pytest.raises(AnomalyError):
            Value(1e300) * 1e300
        assert (x * 3).data == 6.0
    assert (x * 3).parents[0] is x


def test_own_work_still_refuses_the_backward_pass_the_generated_steps_serve():
    y = Value(2.0) * 3.0
    with own_work("backward"), pytest.raises(OwnWorkError):
        y.backward()


def test_math_errors_name_the_op_and_its_operands_and_make_no_node():
    with pytest.raises(ZeroDivisionError, match=r"div\(1\.0, 0\.0\): the divisor must be non-zero"):
        Value(1.0) / 0
    with pytest.raises(ValueError, match=r"log\(-1\.0\)"):
        Value(-1.0).log()
    with pytest.raises(OverflowError, match="pow_const"):
        Value(1e200) ** 2
    with pytest.raises(TypeError, match="expected a real number, got str"):
        Value(1.0) * "2"


def test_a_replaced_op_takes_value_py_s_method_and_the_built_in_one_brings_the_generated_back():
    original = OPS["mul"]
    try:
        new = defop("mul", replace=True, arity=2, forward=lambda m, a, b: 3.0 * (a * b),
                    partials=lambda m, out, a, b: (3.0 * b, 3.0 * a))
        assert Value.__mul__ is fastpath.GENERIC["__mul__"] and Value.__rmul__ is fastpath.GENERIC["__rmul__"]
        x = Value(2.0)
        y = x * 0.5
        assert y.fn is new and y.data == 3.0
        y.backward()
        assert x.grad == 1.5
        assert Value.__add__ is not fastpath.GENERIC["__add__"]  # other ops keep their generated method
    finally:
        ops.register(original)
    assert Value.__mul__ is not fastpath.GENERIC["__mul__"] and (Value(2.0) * 0.5).fn is BUILTINS["mul"]


def test_a_replaced_pow_const_or_pow_gives_pow_value_py_s_method():
    for name in ("pow", "pow_const"):
        original = OPS[name]
        try:
            defop(name, replace=True, arity=original.arity, params=original.params, forward=original.forward,
                  partials=original.rule)
            assert Value.__pow__ is fastpath.GENERIC["__pow__"]
            assert (Value(2.0) ** 2).data == 4.0 and (Value(2.0) ** Value(2.0)).data == 4.0
        finally:
            ops.register(original)
        assert Value.__pow__ is not fastpath.GENERIC["__pow__"]


def test_value_subclasses_and_numpy_numbers_take_apply_s_path():
    class Named(Value):
        __slots__ = ()

    x, y = Named(2.0), Named(3.0)
    assert (x * y).data == 6.0 and type(x * y) is Value and (x * y).parents == (x, y)
    np = pytest.importorskip("numpy")
    z = Value(2.0) * np.float64(0.5)
    assert z.data == 1.0 and type(z.parents[1]) is Value and z.parents[1].data == 0.5


def test_every_method_value_py_applies_a_built_in_op_with_is_generated_or_named_as_left_to_value_py():
    import inspect

    source = inspect.getsource(fastpath.GENERIC["__mul__"].__globals__["Value"])
    applied = {line.split("def ")[1].split("(")[0] for line in source.splitlines()
               if "def " in line and ("apply(OPS[" in line or 'OPS["' in line)}
    assert applied - set(fastpath.METHODS) == {"leaky_relu", "elu"}


def test_maximum_and_minimum_written_out_are_the_float_backend_s():
    from autograd.tape.symbols import NAMESPACE, Sym, render

    special = [-1.0, -0.0, 0.0, 2.5, math.inf, -math.inf, math.nan]
    for name in ("maximum", "minimum"):
        text = render(getattr(fastpath.INLINE, name)(Sym.name("a"), Sym.name("b")))
        assert "(" not in text.replace("(a", "").replace("(b", "")  # no call left
        for a in special:
            for b in special:
                assert key(eval(text, dict(NAMESPACE, a=a, b=b))) == key(getattr(FLOAT, name)(a, b)), (name, a, b)


def _doubled_tanh():
    """An op named tanh that is not the built-in one: twice tanh."""
    import dataclasses

    mine = defop("test_doubled_tanh", forward=lambda m, x: 2.0 * m.tanh(x),
                 partials=lambda m, out, x: (2.0 - out * out / 2.0,))
    return dataclasses.replace(mine, name="tanh")


def test_every_way_of_writing_the_table_changes_the_method_as_defop_does():
    """OPS is a dict: an op put in with ``OPS[name] = op``, ``update`` or ``setdefault``, or taken out with
    ``pop``, ``del`` or ``clear`` (the test suite restores the table that way), is what the method applies
    next, as before the methods were generated; the built-in op put back brings the generated method back."""
    original, mine = OPS["tanh"], _doubled_tanh()
    try:
        OPS["tanh"] = mine
        assert Value(1.0).tanh().fn is mine and Value(1.0).tanh().data == 2.0 * math.tanh(1.0)
        OPS["tanh"] = original
        assert Value.tanh is not fastpath.GENERIC["tanh"] and Value(1.0).tanh().fn is original
        OPS.update({"tanh": mine})
        assert Value(1.0).tanh().fn is mine
        del OPS["tanh"]
        with pytest.raises(KeyError):
            Value(1.0).tanh()
        OPS.setdefault("tanh", original)
        assert Value.tanh is not fastpath.GENERIC["tanh"]
        table = OPS
        table |= {"tanh": mine}
        assert Value(1.0).tanh().fn is mine
        OPS.pop("tanh")
        with pytest.raises(KeyError):
            Value(1.0).tanh()
        before = dict(OPS, tanh=original)
        defop("mul", replace=True, arity=2, forward=lambda m, a, b: 3.0 * (a * b),
              partials=lambda m, out, a, b: (3.0 * b, 3.0 * a))
        OPS.clear()
        OPS.update(before)  # conftest's restore
    finally:
        ops.register(original)
        ops.register(BUILTINS["mul"])
    assert all(getattr(Value, name) is not fastpath.GENERIC[name] for name in fastpath.METHODS)


def test_reloading_fastpath_generates_from_value_py_s_own_methods():
    """importlib.reload(autograd.fastpath) finds its own generated methods on Value: it must still take
    value.py's as the ones a replaced op gets (not the generated ones, which apply the built-in op)."""
    import pathlib
    import subprocess
    import sys

    code = """if True:
        import importlib, math
        from autograd import Value, defop, fastpath
        from autograd.table import WATCHERS
        generic = dict(fastpath.GENERIC)
        importlib.reload(fastpath)
        assert fastpath.GENERIC == generic, "GENERIC holds generated methods"
        assert len(WATCHERS) == 1, WATCHERS
        new = defop("tanh", replace=True, forward=lambda m, x: 2.0 * m.tanh(x), partials=lambda m, out, x: (2.0,))
        assert Value(1.0).tanh().fn is new, "a replaced op is ignored"
    """
    root = pathlib.Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]


def test_own_work_refuses_a_generated_step_called_by_hand():
    """``node.fn.float_step(node, node.grad)`` is micrograd's ``node._backward()`` (refused in own_work): a
    student's chain-rule loop calling it differentiates with the engine and must be refused as that is."""
    from autograd.testing.exercises import ExerciseFailed, check_backward

    x = Value(2.0)
    y = x * 3.0
    with own_work("backward"), pytest.raises(OwnWorkError, match="must not call .*float_step"):
        y.fn.float_step(y, 1.0)
    assert x.grad == 0.0

    def borrowed(root):  # right but for the borrowed steps: its own order, the partials elsewhere
        root.grad = 1.0
        for node in sorted(_all(root), key=lambda v: -v._seq):
            if node.fn is not None and node.fn.float_step is not None:
                node.fn.float_step(node, node.grad)
            elif node.fn is not None:
                for p, d in zip(node.parents, node.fn.partials(FLOAT, node.data, *[p.data for p in node.parents])):
                    p.grad += node.grad * d

    with pytest.raises((ExerciseFailed, OwnWorkError), match="write it yourself"):
        check_backward(borrowed)


def test_a_no_grad_block_in_another_thread_changes_nothing_here():
    """The generated methods read one counter of open blocks for every thread: while another thread is inside
    no_grad, this one still records (through apply, which reads this thread's switches), and that one does not."""
    import threading

    inside, done, made = threading.Event(), threading.Event(), {}

    def other():
        with no_grad():
            inside.set()
            done.wait(10)
            made["other"] = Value(2.0) * 3.0

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    x = Value(2.0)
    here = [x * 3.0, 3.0 * x, x.tanh(), x ** 2, x - x]
    done.set()
    thread.join(10)
    assert all(y.parents and y.parents[0] is x or y.parents[-1] is x for y in here)
    assert made["other"].parents == () and made["other"].data == 6.0


@pytest.mark.parametrize("name", sorted(fastpath.METHODS))
def test_a_method_called_on_a_number_does_what_value_py_s_does(name):
    """``functools.reduce(Value.__add__, xs, 0.0)``, ``map(Value.tanh, [0.5, 1.0])``: value.py's methods apply
    the op to whatever ``self`` is (a number becomes a constant leaf; anything else is apply's TypeError)."""
    generated, generic = getattr(Value, name), fastpath.GENERIC[name]
    others = [()] if len(fastpath.METHODS[name][1]) == 1 else [(Value(2.0),), (1.5,), (3,)]
    for self in (0.5, 3, -0.0, "a", None):
        for rest in others:
            assert outcome(generated, self, *rest) == outcome(generic, self, *rest), (self, *rest)
