"""The function transforms: grad, value_and_grad, jacobian, hessian, hvp."""

import math

import pytest

import autograd
from autograd import Value, grad, hessian, hvp, jacobian, logsumexp, no_grad, value_and_grad
from autograd import functional as F


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


# --- grad ----------------------------------------------------------------------------------------
def test_exported_from_the_package():
    for name in ("grad", "value_and_grad", "jacobian", "hessian", "hvp"):
        assert name in autograd.__all__ and getattr(autograd, name) is getattr(F, name)


def test_floats_in_floats_out():
    g = grad(lambda x: x * x.sin())(1.5)
    assert type(g) is float
    assert g == pytest.approx(math.sin(1.5) + 1.5 * math.cos(1.5), rel=1e-14)
    assert type(grad(lambda x: x * 3)(2)) is float  # ints are numbers too


def test_argnums_int_tuple_and_negative():
    f = lambda x, y, z: x * y * y + z.exp()  # noqa: E731
    assert grad(f)(2.0, 3.0, 0.0) == 9.0
    assert grad(f, argnums=1)(2.0, 3.0, 0.0) == 12.0
    assert grad(f, argnums=-1)(2.0, 3.0, 0.0) == 1.0
    assert grad(f, argnums=(0, 2))(2.0, 3.0, 0.0) == (9.0, 1.0)
    assert grad(f, argnums=(1,))(2.0, 3.0, 0.0) == (12.0,)  # a tuple asks for a tuple


def test_one_sequence_argument_gives_a_list():
    f = lambda xs: xs[0] * xs[1] + xs[2]  # noqa: E731
    assert grad(f)([3.0, 4.0, 5.0]) == [4.0, 3.0, 1.0]
    assert grad(f)((3.0, 4.0, 5.0)) == [4.0, 3.0, 1.0]
    # sequence and scalar arguments mixed; the undifferentiated argument is passed as given
    g = grad(lambda xs, s, label: s * (xs[0] + xs[1]), argnums=(0, 1))([1.0, 2.0], 3.0, "unused")
    assert g == ([3.0, 3.0], 3.0)


def test_output_that_ignores_an_input_has_zero_gradient():
    assert grad(lambda x, y: x * 2, argnums=(0, 1))(1.0, 5.0) == (2.0, 0.0)
    assert grad(lambda x: 7.0)(1.0) == 0.0  # a constant function may return a plain number


def test_value_and_grad():
    v, g = value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    assert v == 12.0 and g == (4.0, 3.0)
    v, g = value_and_grad(rosenbrock)(0.5, 0.5)
    assert v == pytest.approx(0.25 + 100 * 0.0625) and g == pytest.approx(-1 - 400 * 0.5 * 0.25)


# --- composition ---------------------------------------------------------------------------------
def test_grad_composes_to_any_order():
    f = lambda x: x.sin() * x**3  # noqa: E731
    s, c = math.sin(1.5), math.cos(1.5)
    assert grad(grad(f))(1.5) == pytest.approx(-s * 1.5**3 + 6 * c * 1.5**2 + 6 * 1.5 * s, rel=1e-12)
    third = -c * 1.5**3 - 9 * s * 1.5**2 + 18 * c * 1.5 + 6 * s
    assert grad(grad(grad(f)))(1.5) == pytest.approx(third, rel=1e-12)
    assert grad(grad(grad(grad(lambda x: x**4))))(0.3) == pytest.approx(24.0)


def test_called_with_values_returns_values_connected_to_the_caller():
    x = Value(1.5)
    g = grad(lambda t: t**3)(x)
    assert isinstance(g, Value) and g.data == pytest.approx(3 * 1.5**2)
    g.backward()
    assert x.grad == pytest.approx(6 * 1.5)  # d/dx of the derivative: g is part of x's graph


def test_no_perturbation_confusion():
    # Siskind & Pearlmutter: d/dx [x * d/dy (x + y)] = 1, not 2.
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0) == 1.0
    # The inner function closes over the outer variable: its result must stay connected to it.
    assert grad(lambda x: grad(lambda y: x * y * y)(2.0))(3.0) == 4.0
    # The same Value passed twice is two arguments.
    assert grad(lambda a: grad(lambda u, v: u * v)(a, a))(3.0) == 1.0


def test_every_transform_nests_inside_grad():
    assert grad(lambda x: hessian(lambda y: y**4)(x)[0][0])(1.0) == 24.0
    assert grad(lambda x: jacobian(lambda y: [y**3, y])(x)[0][0])(2.0) == 12.0
    assert grad(lambda x: hvp(lambda y: y**4)(x, 2.0))(1.0) == 48.0
    assert grad(lambda v: hvp(lambda y: y**4)(1.0, v))(2.0) == 12.0  # linear in v
    assert grad(lambda x: value_and_grad(lambda y: y**4)(x)[0])(1.0) == 4.0


def test_mixed_partials_by_nesting_match_hessian():
    f = lambda x, y: (x * y).sin() + x**2 * y  # noqa: E731
    dxy = grad(lambda y: grad(f, argnums=0)(1.2, y))(0.7)
    assert dxy == pytest.approx(hessian(f)(1.2, 0.7)[0][1], rel=1e-13)


def test_works_inside_no_grad_and_touches_no_grad_attribute():
    w = Value(2.0)
    w.grad = 5.0
    f = lambda x: (w * x).tanh()  # noqa: E731
    with no_grad():
        g = grad(f)(0.3)
        h = hessian(f)(0.3)
    t = math.tanh(0.6)
    assert g == pytest.approx(2 * (1 - t * t)) and h[0][0] == pytest.approx(-8 * t * (1 - t * t))
    assert w.grad == 5.0


# --- jacobian, hessian, hvp ----------------------------------------------------------------------
def test_jacobian_of_several_scalars_and_of_one_sequence():
    expected = [[3.0, 2.0, 0.0], [1.0, 0.0, 1.0]]
    assert jacobian(lambda x, y, z: [x * y, x + z])(2.0, 3.0, 4.0) == expected
    assert jacobian(lambda v: (v[0] * v[1], v[0] + v[2]))([2.0, 3.0, 4.0]) == expected
    assert jacobian(lambda x, y, z: [x * y, x + z], argnums=(1, 2))(2.0, 3.0, 4.0) == [[2.0, 0.0], [0.0, 1.0]]
    assert jacobian(lambda x: [x * x, 5.0])(3.0) == [[6.0], [0.0]]


def test_jacobian_of_softmax_is_diag_minus_outer_product():
    xs = [0.2, -1.0, 0.5]
    J = jacobian(autograd.softmax)(xs)
    p = [math.exp(x) for x in xs]
    p = [q / sum(p) for q in p]
    for i in range(3):
        for j in range(3):
            assert J[i][j] == pytest.approx((i == j) * p[i] - p[i] * p[j], abs=1e-15)


def test_hessian_of_rosenbrock():
    x, y = 0.5, -0.3
    expected = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]
    assert hessian(rosenbrock)(x, y) == [pytest.approx(r, rel=1e-13) for r in expected]
    assert hessian(lambda v: rosenbrock(*v))([x, y]) == [pytest.approx(r, rel=1e-13) for r in expected]
    assert hessian(rosenbrock)(1.0, 1.0) == [[802.0, -400.0], [-400.0, 200.0]]  # at the minimum


def test_hessian_of_product_xyz():
    x, y, z = 2.0, -3.0, 0.5
    assert hessian(lambda a, b, c: a * b * c)(x, y, z) == [[0.0, z, y], [z, 0.0, x], [y, x, 0.0]]


def test_hessian_of_logsumexp_is_diag_p_minus_ppT():
    xs = [0.3, -2.0, 1.1, 1000.0]  # a large entry: the shift by the maximum keeps it finite
    H = hessian(lambda v: logsumexp(v))(xs)
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    p = [q / sum(e) for q in e]
    for i in range(4):
        assert sum(H[i]) == pytest.approx(0.0, abs=1e-15)  # logsumexp(x + c) = logsumexp(x) + c
        for j in range(4):
            assert H[i][j] == pytest.approx((i == j) * p[i] - p[i] * p[j], abs=1e-15)
            assert H[i][j] == H[j][i]


def test_hvp_equals_hessian_times_vector():
    f = lambda v: (v[0] * v[1]).sin() + v[2] ** 3 * v[0]  # noqa: E731
    x, v = [0.4, -1.1, 0.8], [1.0, -2.0, 0.5]
    H = hessian(f)(x)
    expected = [sum(H[i][j] * v[j] for j in range(3)) for i in range(3)]
    assert hvp(f)(x, v) == pytest.approx(expected, rel=1e-13)
    assert hvp(lambda t: t.exp() * t)(0.5, 2.0) == pytest.approx(2 * (2 + 0.5) * math.exp(0.5))


def test_hvp_does_not_form_the_hessian(monkeypatch):
    calls = []
    real = F.gradients
    monkeypatch.setattr(F, "gradients", lambda *a, **k: calls.append(1) or real(*a, **k))
    n = 12
    f = lambda v: autograd.sum([v[i] * v[(i + 1) % n] for i in range(n)]).tanh()  # noqa: E731
    hvp(f)([0.1 * i for i in range(n)], [1.0] * n)
    assert len(calls) == 2  # two reverse passes whatever n is (the Hessian needs n + 1)
    calls.clear()
    hessian(f)([0.1 * i for i in range(n)])
    assert len(calls) == n + 1


def test_transforms_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    x0 = [0.5, -0.3, 1.2]

    def ours(v):
        return logsumexp([v[0] * v[1], v[1].tanh(), v[2] ** 2]) / (1 + v[0].exp())

    def theirs(v):
        return torch.logsumexp(torch.stack([v[0] * v[1], v[1].tanh(), v[2] ** 2]), 0) / (1 + v[0].exp())

    t = torch.tensor(x0, dtype=torch.float64)
    H = torch.autograd.functional.hessian(theirs, t)
    vec = torch.tensor([0.3, 1.0, -2.0], dtype=torch.float64)
    _, Hv = torch.autograd.functional.hvp(theirs, t, vec)
    J = torch.autograd.functional.jacobian(lambda v: torch.stack([theirs(v), v[0] * v[2]]), t)
    assert hessian(ours)(x0) == [pytest.approx(r, rel=1e-10) for r in H.tolist()]
    assert hvp(ours)(x0, vec.tolist()) == pytest.approx(Hv.tolist(), rel=1e-10)
    assert jacobian(lambda v: [ours(v), v[0] * v[2]])(x0) == [pytest.approx(r, rel=1e-10) for r in J.tolist()]


# --- Newton's method ------------------------------------------------------------------------------
def test_newton_converges_quadratically():
    f = lambda x: x.exp() - 2 * x  # noqa: E731  minimum at log 2
    df, d2f = grad(f), grad(grad(f))
    x, target, errors = 2.0, math.log(2.0), []
    for _ in range(8):
        x = x - df(x) / d2f(x)
        errors.append(abs(x - target))
    assert errors[-1] < 1e-15
    # e_{k+1} ~ |f'''/(2 f'')| e_k^2 = e_k^2 / 2 near the minimum: the error squares each step.
    steps = [(a, b) for a, b in zip(errors, errors[1:]) if 1e-7 < a < 0.5]
    assert len(steps) >= 2
    for a, b in steps:
        assert b <= a * a  # at least squared (up to the constant 1/2)
        assert b >= 0.1 * a * a  # and not faster: it really is second order


# --- errors ---------------------------------------------------------------------------------------
def test_grad_of_a_non_scalar_says_use_jacobian():
    with pytest.raises(TypeError, match="grad: f must return a scalar.*list.*use jacobian"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="hessian: f must return a scalar"):
        hessian(lambda x: "x")(1.0)
    with pytest.raises(TypeError, match="jacobian: f must return a sequence.*use grad"):
        jacobian(lambda x: x * 2)(1.0)


def test_argnums_errors():
    with pytest.raises(ValueError, match=r"argnums=2 is out of range.*2 argument\(s\)"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match="argnums=-3 is out of range"):
        grad(lambda x, y: x * y, argnums=(0, -3))(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        grad(lambda x: x, argnums="0")
    with pytest.raises(TypeError, match="argnums must be an int"):
        grad(lambda x: x, argnums=[0])
    with pytest.raises(ValueError, match="empty tuple"):
        grad(lambda x: x, argnums=())


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument x0 must be a number, a Value or a sequence"):
        grad(lambda x: x)("1.0")
    with pytest.raises(TypeError, match="needs at least one argument"):
        grad(lambda: Value(1.0))()
    with pytest.raises(ValueError, match="hvp: v must have the shape of x"):
        hvp(lambda v: v[0] * v[1])([1.0, 2.0], [1.0])


def test_undefined_derivative_names_the_op_and_point():
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0\.0\): derivative undefined here"):
        grad(lambda x: x.sqrt())(0.0)
    with pytest.raises(ZeroDivisionError, match=r"pow_const\(0\.0, n=0\.5\)"):
        hessian(lambda x, y: x**1.5 + y)(0.0, 1.0)


def test_repeated_argnums_are_refused():
    from autograd import grad, hessian

    with pytest.raises(ValueError, match="twice"):
        grad(lambda x, y: x * x * y, argnums=(0, 0))(3.0, 2.0)
    with pytest.raises(ValueError, match="twice"):
        hessian(lambda x, y: x * x * y, argnums=(0, -2))(3.0, 2.0)


def test_detect_anomaly_covers_the_transforms():
    from autograd import AnomalyError, detect_anomaly, grad, hessian

    with detect_anomaly():
        with pytest.raises(AnomalyError, match="log"):
            grad(lambda x: x.log())(1e-310)
        with pytest.raises(AnomalyError):
            hessian(lambda x: x.log())(1e-160)
    assert grad(lambda x: x.log())(1e-310) == float("inf")  # outside the block, IEEE as usual
