"""Every primitive, and graphs that reuse nodes, against PyTorch autograd in float64."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_cases import CASES, too_close_to_a_kink

from autograd import Value

torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra: pip install -e '.[parity]'")


def torch_grads(fn, xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return out.item(), [t.grad.item() if t.grad is not None else 0.0 for t in ts]


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_matches_pytorch_float64(case):
    fn, torch_fn, intervals, kinks = CASES[case]

    @settings(max_examples=25, deadline=None)
    @given(st.tuples(*[st.floats(lo, hi, allow_nan=False) for lo, hi in intervals]))
    def run(xs):
        assume(not too_close_to_a_kink(xs, kinks, case, margin=1e-12))
        inputs = [Value(x) for x in xs]
        out = fn(*inputs)
        out.backward()
        t_out, t_grads = torch_grads(torch_fn, xs)
        assert out.data == pytest.approx(t_out, rel=1e-12, abs=1e-14)
        assert [v.grad for v in inputs] == pytest.approx(t_grads, rel=1e-10, abs=1e-13)

    run()


@pytest.mark.parametrize("x0, y0", [(1.5, -0.5), (-2.0, 0.25), (0.3, 3.0)])
def test_graph_that_reuses_nodes(x0, y0):
    def f(x, y):
        a = x * y
        b = a + a
        c = b * a
        return (c + b.tanh() * x) / (1 + y * y)

    x, y = Value(x0), Value(y0)
    f(x, y).backward()
    _, (gx, gy) = torch_grads(f, (x0, y0))
    assert (x.grad, y.grad) == pytest.approx((gx, gy), rel=1e-12)


def test_ties_and_kinks_follow_pytorch_where_it_agrees():
    # relu'(0) = 0 and abs'(0) = 0 are PyTorch's choices too; the tie of maximum splits evenly in both.
    for fn in (lambda v: v.relu(), lambda v: v.abs()):
        x = Value(0.0)
        fn(x).backward()
        _, (g,) = torch_grads(fn, (0.0,))
        assert x.grad == g == 0.0
    a, b = Value(1.0), Value(1.0)
    from autograd import maximum

    maximum(a, b).backward()
    _, (ga, gb) = torch_grads(lambda s, t: torch.maximum(s, t), (1.0, 1.0))
    assert (a.grad, b.grad) == (ga, gb) == (0.5, 0.5)
