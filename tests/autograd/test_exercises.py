"""The exercise set: student versions are generated from the masters, every check fails on its stub
(with the master's hint) and on plausible wrong answers, with a one-line message that says why.

The masters themselves (solutions in) run as notebooks in the default test run (nbmake)."""

import collections
import json
import math
import random
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from autograd import Value, defop, grad, ops
from autograd.backends import FLOAT
from autograd.exercises import MarkerError, student_source, write_student_versions
from autograd.functional import gradients
from autograd.testing import exercises
from autograd.testing.exercises import CHECKS, ExerciseFailed, check

ROOT = Path(__file__).resolve().parents[2]
MASTERS = ROOT / "notebooks" / "exercises"
CHECK_CALL = re.compile(r"\bcheck_(\w+)\(")


def code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout")
    write_student_versions(MASTERS, out)
    return out


# --- the set as a whole ----------------------------------------------------------------------------
def test_at_least_12_exercises_in_5_notebooks_each_with_a_check_cell():
    masters = sorted(MASTERS.glob("*.ipynb"))
    assert len(masters) >= 5
    called = [name for p in masters for cell in code_cells(p) for name in CHECK_CALL.findall(cell)]
    assert len(CHECKS) >= 12
    assert sorted(called) == sorted([*CHECKS, *CHECKS])  # every check is called twice (visible, hidden), nothing else


def test_the_masters_carry_nbgrader_metadata():
    """Solution cells, autograded test cells with points (the visible check and the hidden one),
    every other cell locked, unique grade_ids: what nbgrader's Create Assignment tool writes."""
    for master in sorted(MASTERS.glob("*.ipynb")):
        cells = json.loads(master.read_text(encoding="utf-8"))["cells"]
        tags = [c["metadata"]["nbgrader"] for c in cells]
        assert len({t["grade_id"] for t in tags}) == len(tags)
        for cell, tag in zip(cells, tags):
            text = "".join(cell["source"])
            assert tag["schema_version"] == 3 and tag["solution"] == ("BEGIN SOLUTION" in text)
            if CHECK_CALL.search(text):
                name = CHECK_CALL.findall(text)[0]
                assert tag["grade"] and tag["locked"] and tag["points"] >= 1 and tag["grade_id"] == f"check_{name}"
                assert text == f"check_{name}({text.split('(', 1)[1].split(')')[0]})\n### BEGIN HIDDEN TESTS\n" \
                               f"check_{name}({text.split('(', 1)[1].split(')')[0]}, hidden=True)\n" \
                               "### END HIDDEN TESTS"
            else:
                assert not tag["grade"] and tag["locked"] != tag["solution"]


def test_student_versions_keep_no_solution_and_no_output(student_dir):
    for master in sorted(MASTERS.glob("*.ipynb")):
        student = student_dir / master.name
        text = student.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text
        solutions = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", "\n".join(code_cells(master)), re.S)
        handed_out = {line.strip() for cell in code_cells(student) for line in cell.splitlines()}
        for line in (ln.strip() for block in solutions for ln in block.splitlines()):
            assert len(line) < 16 or line not in handed_out, line  # short lines (`return h`) may recur
        stubs = [c for c in code_cells(student) if "raise NotImplementedError()" in c]
        assert len(solutions) >= 3 and sum(c.count("# YOUR CODE HERE\n") for c in stubs) == len(solutions)
        cells = json.loads(text)["cells"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells if c["cell_type"] == "code")


def run_cells(path):
    """Execute a notebook's code cells in one namespace; the ExerciseFailed each check cell raised."""
    namespace: dict = {"__name__": "__student__"}
    failures = {}
    for cell in code_cells(path):
        names = CHECK_CALL.findall(cell)
        try:
            exec(compile(cell, str(path), "exec"), namespace)
        except ExerciseFailed as e:
            failures[names[0] if names else cell[:40]] = str(e)
        except NotImplementedError:
            assert not names  # a demo cell after an exercise may stop on the stub; a check cell must not
    return failures


def test_every_check_fails_on_its_stub_saying_where_to_write(student_dir, capsys):
    seen = set()
    for master in sorted(MASTERS.glob("*.ipynb")):
        failures = run_cells(student_dir / master.name)
        expected = {name for cell in code_cells(master) for name in CHECK_CALL.findall(cell)}
        assert set(failures) == expected, master.name
        for name, message in failures.items():
            assert message.startswith(f"{name}: not written yet") and "NotImplementedError" in message
            assert message.endswith("Write your answer where the cell says YOUR CODE HERE."), message
            assert "\n" not in message
        seen |= expected
    assert seen == set(CHECKS)
    assert "✓" not in capsys.readouterr().out


def test_the_command_line_writes_student_versions(tmp_path):
    run = subprocess.run([sys.executable, "-m", "autograd.exercises", "student", str(MASTERS), str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.ipynb")) == sorted(p.name for p in MASTERS.glob("*.ipynb"))
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "### BEGIN SOLUTION\nx = 1\n", "metadata": {},
                                          "outputs": [], "execution_count": None}], "metadata": {}, "nbformat": 4,
                               "nbformat_minor": 5}))
    run = subprocess.run([sys.executable, "-m", "autograd.exercises", "student", str(bad), str(tmp_path / "o2")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "bad.ipynb, cell 1: BEGIN SOLUTION is never closed" in run.stderr
    assert not (tmp_path / "o2").exists()  # nothing half-written


def test_student_source_follows_nbgrader_rules():
    master = (
        "def f(x):\n"
        "    # Hint: double it\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2 * x\n"
        "    ### END SOLUTION\n"
        "check_f(f)\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert f(2) == 4\n"
        "### END HIDDEN TESTS\n"
    )
    stub = "def f(x):\n    # Hint: double it\n    # YOUR CODE HERE\n    raise NotImplementedError()\ncheck_f(f)\n"
    assert student_source(master) == stub
    for decorated in ("### BEGIN SOLUTION (2 points)", "#### BEGIN SOLUTION", "# BEGIN SOLUTION", "BEGIN SOLUTION"):
        assert student_source(f"a = 1\n{decorated}\nsecret = 42\n## END SOLUTION ##\nb = 2") == \
            "a = 1\n# YOUR CODE HERE\nraise NotImplementedError()\nb = 2"
    assert student_source("### BEGIN SOLUTION\nx\n### END SOLUTION\n", markdown=True) == "YOUR ANSWER HERE\n"
    assert student_source("secret = 42") == "# YOUR CODE HERE\nraise NotImplementedError()"  # a whole solution cell
    assert student_source("x = 1\n### END SOLUTION\n", solution=False) == "x = 1\n"  # nbgrader ignores a lone END
    with pytest.raises(MarkerError, match="line 3: BEGIN SOLUTION inside an open BEGIN SOLUTION"):
        student_source("### BEGIN SOLUTION\nx\n### BEGIN SOLUTION\n", where="nb")
    with pytest.raises(MarkerError, match="not tagged as a solution cell"):
        student_source("### BEGIN SOLUTION\nx\n### END SOLUTION\n", solution=False)
    with pytest.raises(MarkerError, match="not tagged as an autograded test cell"):
        student_source("### BEGIN HIDDEN TESTS\nx\n### END HIDDEN TESTS\n", solution=False, grade=False)


def test_a_deeply_nested_notebook_is_one_line_not_a_recursion_error(tmp_path):
    bad = tmp_path / "deep.ipynb"
    bad.write_text('{"cells": [], "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}")
    run = subprocess.run([sys.executable, "-m", "autograd.exercises", "student", str(bad), str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.count("\n") == 1
    assert "nested too deeply" in run.stderr


# --- wrong answers: every check catches at least one plausible mistake ---------------------------------
class UserOp:
    """A wrong user op, made inside its test only (so that it never stays in the op table)."""

    def __init__(self, name, forward, partials):
        self.name, self.forward, self.partials = f"wrong_{name}", forward, partials

    def make(self):
        return defop(self.name, forward=self.forward, partials=self.partials)


op = UserOp


def topo_recursive(root):  # micrograd's build_topo: fine on small graphs, not on deep ones
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for p in v.parents:
                visit(p)
            order.append(v)

    visit(root)
    return order


def topo_no_visited_set(root):
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def topo_children_first(root):
    return list(reversed(topo_recursive(root)))


def backward_with(update, order=reversed, seed=True, sort=None):
    def backward(root):
        if seed:
            root.grad = 1.0
        for node in order((sort or topo_iterative_reference)(root)):
            if node.fn is not None:
                ds = node.fn.partials(FLOAT, node.data, *[p.data for p in node.parents])
                for p, d in zip(node.parents, ds):
                    update(p, node, d)

    return backward


def subtract(p, node, d):
    p.grad -= node.grad * d


# a very common iterative DFS that marks a node visited when it is pushed: the check's own model of it
topo_visited_on_push = exercises.graphs.visited_on_push


def topo_recursive_with_a_higher_limit(root):
    sys.setrecursionlimit(100_000)
    return topo_recursive(root)


def backward_borrowing_the_engine(root):
    from autograd.fast_backward import backward_floats

    backward_floats(list(reversed(topo_iterative_reference(root))), root, 1.0)


def imperial_with_grad(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c):
    gradients(Value(1.0) * 2, [])
    return {}


def and_with_backward(W1, W2, x, y, lr):
    saved = Value.backward
    saved(Value(2.0) * 3)
    return {}


def assign(p, node, d):
    p.grad = node.grad * d  # `=` where `+=` belongs


def no_chain_factor(p, node, d):
    p.grad += d


def accumulate(p, node, d):
    p.grad += node.grad * d


def sig(x):
    return 1 / (1 + math.exp(-x))


def imperial_by_hand(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c):
    """The 3-2-1 network's numbers in the keys' order, with numpy."""
    s_a, s_b = np.dot(w_a, x) + b_a, np.dot(w_b, x) + b_b
    f_a, f_b = max(s_a, 0.0), max(s_b, 0.0)
    s_c = w_c[0] * f_a + w_c[1] * f_b + b_c
    f_c = max(s_c, 0.0)
    delta_c = (f_c - y) * (s_c > 0)
    delta_b = delta_c * w_c[1] * (s_b > 0)
    return f_a, f_b, f_c, 0.5 * (f_c - y) ** 2, delta_c, delta_b, w_b[2] - lr * delta_b * x[2]


def imperial(**changes):
    def fn(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c):
        out = {"f_a": 0.0, "f_b": 3.0, "f_c": 0.875, "loss": 0.6328125, "delta_c": -1.125, "delta_b": -0.140625,
               "w_3b": 0.30625}
        out.update(changes)
        return out

    return fn


def and_example(**changes):
    def fn(W1, W2, x, y, lr):
        out = {"f": 0.81, "loss": 0.0361, "grad_W2": [0.0, -0.342], "grad_W1": [[0.0, 0.0], [-0.342, -0.342]],
               "W2": [-0.9, 0.9684], "W1": [[-0.9, 0.9], [0.0684, 0.9684]], "f_new": 0.9684 * 1.0368}
        out.update(changes)
        return out

    return fn


def neuron_no_bias(w, b, x):
    return sum((wi * xi for wi, xi in zip(w, x)), Value(0.0)).relu()


def neuron_on_data(w, b, x):
    return Value(sum(wi.data * xi for wi, xi in zip(w, x)) + b.data).relu()


def neuron(w, b, x):
    return sum((wi * xi for wi, xi in zip(w, x)), b).relu()


def mlp_relu_everywhere(layers, x):
    h = x
    for W, b in layers:
        h = [neuron(w, bi, h) for w, bi in zip(W, b)]
    return h[0]


def xor_linear(x1, x2, W, b, v):
    h1, h2 = x1 + x2, x1 + x2 - 1
    return h1 - 2 * h2


def momentum_torch_form(w, a, g, lr, m):
    a = [m * ai + gi for ai, gi in zip(a, g)]
    return [wi - lr * ai for wi, ai in zip(w, a)], a


def momentum_sign(w, a, g, lr, m):
    a = [m * ai + lr * gi for ai, gi in zip(a, g)]
    return [wi + ai for wi, ai in zip(w, a)], a


def momentum_minus_lr_g(w, a, g, lr, m):
    a = [m * ai - lr * gi for ai, gi in zip(a, g)]  # a ← m·a − lr·g
    return [wi - ai for wi, ai in zip(w, a)], a


# --- wrong answers of exercises 6 and 7 ----------------------------------------------------------------
# --- 6.1 loss_gradient
def loss_gradient_of_f(w, w1, x, y):  # ∂f/∂w, the answer of 3.1: S missing
    v = sig(w1 * x)
    return v, w * v * (1 - v) * x


def loss_gradient_half(w, w1, x, y):  # S = f - y
    v = sig(w1 * x)
    S = w * v - y
    return S * v, S * w * v * (1 - v) * x


def loss_gradient_sign(w, w1, x, y):  # S = 2(y - f)
    v = sig(w1 * x)
    S = 2 * (y - w * v)
    return S * v, S * w * v * (1 - v) * x


# --- 6.2 softmax_cross_entropy
def softmax_probabilities(z, y):  # forgot − onehot(y)
    e = [math.exp(v - max(z)) for v in z]
    return [v / sum(e) for v in e]


def softmax_unshifted(z, y):  # exp overflows on large logits
    e = [math.exp(v) for v in z]
    return [v / sum(e) - (i == y) for i, v in enumerate(e)]


def softmax_unshifted_numpy(z, y):  # numpy: inf / inf = nan
    with np.errstate(all="ignore"):
        e = np.exp(np.array(z))
        return e / e.sum() - np.eye(len(z))[y]


def softmax_y_minus_p(z, y):
    e = [math.exp(v - max(z)) for v in z]
    return [(i == y) - v / sum(e) for i, v in enumerate(e)]


# --- 6.3 matrix_backprop
def backprop_with(numerator_layout=False, no_mask=False, relu0=False, half=False):
    def matrix_backprop(W1, b1, W2, b2, x, y):
        z = W1 @ x + b1
        v = np.maximum(z, 0.0)
        f = W2 @ v + b2
        d2 = (f - y) if half else 2 * (f - y)
        mask = 1.0 if no_mask else ((z >= 0) if relu0 else (z > 0))
        d1 = mask * (W2.T @ d2)
        if numerator_layout:
            return {"grad_W1": np.outer(x, d1), "grad_b1": d1, "grad_W2": np.outer(v, d2), "grad_b2": d2}
        return {"grad_W1": np.outer(d1, x), "grad_b1": d1, "grad_W2": np.outer(d2, v), "grad_b2": d2}
    return matrix_backprop


def backprop_w2_not_transposed(W1, b1, W2, b2, x, y):
    z = W1 @ x + b1
    v = np.maximum(z, 0.0)
    d2 = 2 * (W2 @ v + b2 - y)
    d1 = (z > 0) * (W2 @ d2)
    return {"grad_W1": np.outer(d1, x), "grad_b1": d1, "grad_W2": np.outer(d2, v), "grad_b2": d2}


# --- 6.4 permute_hidden
def permute_rows_only(W1, b1, W2, perm):
    return [W1[p] for p in perm], [b1[p] for p in perm], W2


def permute_no_bias(W1, b1, W2, perm):
    return [W1[p] for p in perm], b1, [[row[p] for p in perm] for row in W2]


def permute_inverse(W1, b1, W2, perm):  # old unit j to place perm[j]
    n = len(perm)
    inv = [perm.index(j) for j in range(n)]
    return [W1[p] for p in inv], [b1[p] for p in inv], [[row[p] for p in inv] for row in W2]


# --- 7.1 bias_trick
def bias_last(w, b, X):
    return [*w, b], [[*x, 1.0] for x in X]


def bias_swapped(w, b, X):  # w_aug starts with 1, x_aug with b: the same dot product, the roles swapped
    return [1.0, *w], [[b, *x] for x in X]


def bias_zero(w, b, X):
    return [b, *w], [[0.0, *x] for x in X]


# --- 7.2 perceptron_update
def perceptron_strict(w, x, y, lr):  # y·wᵀx < 0: from w = 0 nothing is ever a mistake
    if y * sum(a * b for a, b in zip(w, x)) < 0:
        return [a + lr * y * b for a, b in zip(w, x)]
    return w


def perceptron_always(w, x, y, lr):
    return [a + lr * y * b for a, b in zip(w, x)]


def perceptron_sign(w, x, y, lr):
    if y * sum(a * b for a, b in zip(w, x)) <= 0:
        return [a - lr * y * b for a, b in zip(w, x)]
    return w


def perceptron_no_lr(w, x, y, lr):
    if y * sum(a * b for a, b in zip(w, x)) <= 0:
        return [a + y * b for a, b in zip(w, x)]
    return w


# --- 7.3 minibatches
def batches_drop_last(n, batch_size, rng):
    order = list(range(n))
    rng.shuffle(order)
    return [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def batches_unshuffled(n, batch_size, rng):
    return [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]


def batches_with_replacement(n, batch_size, rng):
    picks = [rng.randrange(n) for _ in range(n)]
    return [picks[i:i + batch_size] for i in range(0, n, batch_size)]


def batches_new_rng(n, batch_size, rng):
    order = list(range(n))
    random.Random(0).shuffle(order)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def batches_numpy(n, batch_size, rng):  # a right answer: numpy's permutation, seeded from rng
    order = np.random.default_rng(rng.randrange(2 ** 32)).permutation(n)
    return np.array_split(order, range(batch_size, n, batch_size))


# --- 7.4 training_loop
def loop_with(zero_grad="before", step=True, mean=True):
    def training_loop(model, optimizer, loss, data, epochs):
        history = []
        for _ in range(epochs):
            total = 0.0
            for x, y in data:
                if zero_grad == "before":
                    optimizer.zero_grad()
                value = loss(model(x), y)
                value.backward()
                if zero_grad == "between":
                    optimizer.zero_grad()
                if step:
                    optimizer.step()
                total += value.data
            history.append(total / len(data) if mean else total)
        return history
    return training_loop


# --- 7.5 early_stopping
def early_previous(val_losses, patience):  # compares with the previous epoch
    waited = 0
    for epoch in range(2, len(val_losses) + 1):
        waited = waited + 1 if val_losses[epoch - 1] >= val_losses[epoch - 2] else 0
        if waited >= patience:
            return epoch, epoch - patience
    return len(val_losses), len(val_losses)


def early_first_increase(val_losses, patience):
    best, best_epoch = math.inf, 0
    for epoch, loss in enumerate(val_losses, 1):
        if loss >= best:
            return epoch, best_epoch
        best, best_epoch = loss, epoch
    return len(val_losses), best_epoch


def early_keeps_last(val_losses, patience):
    best, waited = math.inf, 0
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best:
            best, waited = loss, 0
        else:
            waited += 1
            if waited == patience:
                return epoch, epoch
    return len(val_losses), len(val_losses)


def early_one_late(val_losses, patience):  # waits for patience + 1 epochs without improvement (> for ==)
    return early_by_best_index(val_losses, patience + 1)


# --- 7.6/7.7 batch norm
def bn_forward(unbiased=False, eps_outside=False, swap=False):
    def batchnorm_forward(x, gamma, beta, eps):
        m = len(x)
        mu = sum(x) / m
        var = sum((v - mu) ** 2 for v in x) / (m - 1 if unbiased else m)
        s = math.sqrt(var) + eps if eps_outside else math.sqrt(var + eps)
        g, b = (beta, gamma) if swap else (gamma, beta)
        return [g * (v - mu) / s + b for v in x]
    return batchnorm_forward


def bn_backward(constant_stats=False, swap=False, no_gamma=False):
    def batchnorm_backward(x, gamma, eps, dy):
        m = len(x)
        mu = sum(x) / m
        s = math.sqrt(sum((v - mu) ** 2 for v in x) / m + eps)
        xh = [(v - mu) / s for v in x]
        md, mdx = sum(dy) / m, sum(d * h for d, h in zip(dy, xh)) / m
        scale = 1.0 if no_gamma else gamma
        dx = [scale * d / s for d in dy] if constant_stats else \
            [scale / s * (d - md - h * mdx) for d, h in zip(dy, xh)]
        dg, db = sum(d * h for d, h in zip(dy, xh)), sum(dy)
        return (dx, db, dg) if swap else {"dx": dx, "dgamma": dg, "dbeta": db}
    return batchnorm_backward


def bn_backward_with_backward(x, gamma, eps, dy):
    xs = [Value(v) for v in x]
    sum(d * v for d, v in zip(dy, xs)).backward()
    return [v.grad for v in xs], 0.0, 0.0


# right answers in other forms
def matrix_backprop_as_lists(W1, b1, W2, b2, x, y):  # a tuple in the named order, nested lists
    grads = backprop_with()(W1, b1, W2, b2, x, y)
    return tuple(grads[k].tolist() for k in ("grad_W1", "grad_b1", "grad_W2", "grad_b2"))


def loop_zeroing_the_model(model, optimizer, loss, data, epochs):  # model.zero_grad(), a numpy result
    history = np.zeros(epochs)
    for epoch in range(epochs):
        for x, y in data:
            model.zero_grad()
            value = loss(model(x), y)
            value.backward()
            optimizer.step()
            history[epoch] += value.data / len(data)
    return history


def early_by_best_index(val_losses, patience):  # another right way: epochs since the first minimum so far
    for stop in range(1, len(val_losses) + 1):
        best = val_losses[:stop].index(min(val_losses[:stop]))
        if stop - 1 - best >= patience:
            return stop, best + 1
    return len(val_losses), val_losses.index(min(val_losses)) + 1


WRONG_6_7 = [  # exercises 6 (matrices and softmax) and 7 (training loops)
    ("loss_gradient", loss_gradient_of_f, "that is d f/dw; the loss's gradient multiplies it by S"),
    ("loss_gradient", loss_gradient_half, "so S = ℓ′(f) = 2(f − y)"),
    ("loss_gradient", loss_gradient_sign, "the sign is flipped"),
    ("softmax_cross_entropy", softmax_probabilities, "that is softmax(z); the gradient is softmax(z) − onehot(y)"),
    ("softmax_cross_entropy", softmax_unshifted, "overflowed in exp; subtract max(z)"),
    ("softmax_cross_entropy", softmax_unshifted_numpy, "exp overflowed: subtract max(z)"),
    ("softmax_cross_entropy", softmax_y_minus_p, "the sign is flipped"),
    ("matrix_backprop", backprop_with(numerator_layout=True), "numerator layout"),
    ("matrix_backprop", backprop_with(no_mask=True), "ReLU′(0) is 0"),
    ("matrix_backprop", backprop_with(relu0=True), "ReLU′(0) is 0"),
    ("matrix_backprop", backprop_with(half=True), "half of what it should be"),
    ("matrix_backprop", backprop_w2_not_transposed, "raised ValueError"),
    ("permute_hidden", permute_rows_only, "permute W2's columns too"),
    ("permute_hidden", permute_no_bias, "the biases move with their units"),
    ("permute_hidden", permute_inverse, "new unit j should be old unit perm[j]"),
    ("bias_trick", bias_last, "put it first"),
    ("bias_trick", bias_swapped, "put it first"),
    ("bias_trick", bias_zero, "w_augᵀ X_aug[0]"),
    ("perceptron_update", perceptron_strict, "from w = 0 every sample is one"),
    ("perceptron_update", perceptron_always, "classified right, so w stays"),
    ("perceptron_update", perceptron_sign, "the sign is flipped"),
    ("perceptron_update", perceptron_no_lr, "multiply y·x by the learning rate"),
    ("minibatches", batches_drop_last, "keep the last, smaller batch"),
    ("minibatches", batches_unshuffled, "shuffle them with rng each epoch"),
    ("minibatches", batches_with_replacement, "every sample exactly once"),
    ("minibatches", batches_new_rng, "not a new one"),
    ("training_loop", loop_with(zero_grad=None), "call optimizer.zero_grad() before each backward()"),
    ("training_loop", loop_with(zero_grad="between"), "not between it and step()"),
    ("training_loop", loop_with(step=False), "no optimizer.step()"),
    ("training_loop", loop_with(mean=False), "the mean over the epoch's samples, not the sum"),
    ("early_stopping", early_previous, "not with the previous epoch's"),
    ("early_stopping", early_first_increase, "not for the first increase"),
    ("early_stopping", early_keeps_last, "keep the weights of the best epoch"),
    ("early_stopping", early_one_late, "not one epoch later"),
    ("batchnorm_forward", bn_forward(unbiased=True), "divides by m, not m − 1"),
    ("batchnorm_forward", bn_forward(eps_outside=True), "ε goes inside the square root"),
    ("batchnorm_forward", bn_forward(swap=True), "γ scales, β shifts"),
    ("batchnorm_backward", bn_backward(constant_stats=True), "μ and σ² depend on every xᵢ too"),
    ("batchnorm_backward", bn_backward(swap=True), "are they swapped?"),
    ("batchnorm_backward", bn_backward(no_gamma=True), "dx[0]"),
    ("batchnorm_backward", bn_backward_with_backward, "must not call Value.backward"),
]


WRONG = [
    ("tanh", op("tanh_sign", lambda m, x: m.tanh(x), lambda m, out, x: (out * out - 1,)), "the sign is flipped"),
    ("tanh", op("tanh_x", lambda m, x: m.tanh(x), lambda m, out, x: (1 - x * x,)), "d/dx my_tanh(x) at x = 0.5"),
    ("tanh", op("tanh_math", lambda m, x: m.tanh(x), lambda m, out, x: (1 - math.tanh(float(x)) ** 2,)),
     "m.exp, not math.exp"),
    ("tanh", op("tanh_one_minus_out", lambda m, x: m.tanh(x), lambda m, out, x: (1 - out,)),
     "tanh: d/dx my_tanh(x) at x = 0.5: expected 0.786448, got 0.537883"),
    ("tanh", ops.OPS["tanh"], "write it yourself"),
    ("tanh", op("tanh_borrowed", lambda m, x: m.tanh(x), ops.OPS["tanh"].rule), "write it yourself"),
    ("sigmoid", Value.sigmoid, "write it yourself"),
    ("tanh", op("tanh_tuple", lambda m, x: m.tanh(x), lambda m, out, x: 1 - out * out), "partials must return a tuple"),
    ("sigmoid", op("sigmoid_factor", lambda m, x: 1 / (1 + m.exp(-x)), lambda m, out, x: (out,)),
     "d/dx my_sigmoid(x) at x = 0: expected 0.25, got 0.5"),
    ("softplus", op("softplus_sign", lambda m, x: m.log(1 + m.exp(x)), lambda m, out, x: (1 / (1 + m.exp(x)),)),
     "softplus: d/dx my_softplus(x) at x = 0.5: expected 0.622459, got 0.377541"),
    ("softplus", op("softplus_math", lambda m, x: m.log(1 + m.exp(x)),
                    lambda m, out, x: (1 / (1 + math.exp(-float(x))),)), "m.exp, not math.exp"),
    ("topological_sort", topo_recursive, "recursion limit"),
    ("topological_sort", topo_no_visited_set, "appears twice"),
    ("topological_sort", topo_children_first, "parents must come first"),
    ("topological_sort", topo_visited_on_push, "mark a node visited when its parents are expanded"),
    ("topological_sort", topo_recursive_with_a_higher_limit, "changed Python's recursion limit"),
    ("backward", backward_with(assign), "add (+=) each contribution instead of overwriting (=)"),
    ("backward", backward_with(no_chain_factor), "the chain rule's outer factor"),
    ("backward", backward_with(accumulate, order=list),
     "backward: on a = 3; t1 = a * a; t2 = t1 + a (output t2): a.grad: expected 7, got 1; visit the nodes children"),
    ("backward", backward_with(subtract), "do not subtract it (-=)"),
    ("backward", backward_with(accumulate, sort=topo_visited_on_push), "mark a node visited when its parents"),
    ("backward", lambda root: root.backward(), "write it yourself: backward must not call Value.backward"),
    ("backward", backward_borrowing_the_engine, "write it yourself: backward must not call"),
    ("backward", backward_with(accumulate, seed=False), "expected 7, got 0 (nothing reached it"),
    ("central_difference", lambda f, x, h: (f(x + h) - f(x)) / h, "one-sided difference"),
    ("central_difference", lambda f, x, h: (f(x + h) - f(x - h)) / h, "twice too large"),
    ("central_difference", lambda f, x, h: (f(x + 1e-4) - f(x - 1e-4)) / 2e-4, "use the h you are given"),
    ("central_difference", lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h, "write / (2 * h)"),
    ("one_hidden_unit", lambda w, w1, x: (sig(w1 * x), w * sig(w1 * x) * (1 - sig(w1 * x))), "three factors"),
    ("one_hidden_unit", lambda w, w1, x: (sig(w1 * x), sig(w1 * x) * (1 - sig(w1 * x)) * x), "df/dw1"),
    ("imperial_example", imperial(delta_b=-1.125), "delta_b: expected -0.140625, got -1.125"),
    ("imperial_example", imperial(w_3b=0.19375), "w_3b: expected 0.30625, got 0.19375"),
    ("imperial_example", imperial_with_grad, "write it yourself: imperial_example must not call autograd's gradients"),
    ("one_hidden_unit", lambda w, w1, x: grad(lambda a, b: a * (b * x).sigmoid(), argnums=(0, 1))(w, w1),
     "must not call autograd's gradients"),
    ("and_example", and_with_backward, "must not call Value.backward"),
    ("and_example", and_example(grad_W1=[[0.342, 0.342], [-0.342, -0.342]]), "grad_W1[0][0]"),
    ("and_example", and_example(grad_W2=[0.0, -0.171]), "half of what it should be"),
    ("neuron", neuron_no_bias, "neuron(w=[0.5], b=0.25, x=[1]): expected 0.75, got 0.5"),
    ("neuron", neuron_on_data, "d output / d w[0]: expected 1, got 0 (keep the Values"),
    ("layer", lambda W, b, x: [neuron(w, b[0], x) for w in W], "layer of"),
    ("layer", lambda W, b, x: [sum((wi * xi for wi, xi in zip(w, x)), bi) for w, bi in zip(W, b)], "layer of"),
    ("mlp", mlp_relu_everywhere, "no ReLU on the output layer"),
    ("xor", xor_linear, "xor_network(0, 0, W=[[1, 1], [1, 1]], b=[0, -1], v=[1, -2]): expected 0, got 2"),
    ("xor", lambda x1, x2, W, b, v: Value(x1 + x2).relu() - 2 * Value(x1 + x2 + 1).relu(), "xor_network(0, 0"),
    ("xor", lambda x1, x2, W, b, v: float(x1 != x2), "xor_network(0.5, 2"),
    ("xor", lambda x1, x2: float(x1 != x2), "raised TypeError"),
    ("momentum_step", momentum_torch_form, "puts lr inside a"),
    ("momentum_step", momentum_sign, "w[0]"),
    ("momentum_step", momentum_minus_lr_g, "a[0]: expected 0.0246, got -0.0246 (the sign is flipped)"),
    ("inverse_time", lambda t: max(0.1, 100 / t), "inverse_time(1): expected 0.1, got 100"),
    ("inverse_time", lambda t: 100 / t, "inverse_time(1)"),
    ("l2_gradient", lambda w, lam: [2 * lam * wi for wi in w], "twice too large"),
    ("l2_gradient", lambda w, lam: [lam for wi in w], "l2_gradient(w="),
    ("dropout_scale", lambda W, p: [[w * p for w in row] for row in W], "probability of dropping"),
    ("dropout_scale", lambda W, p: [[w / (1 - p) for w in row] for row in W], "dropout_scale(W, p=0.5)"),
    ("init_variance", lambda kind, n_in, n_out: math.sqrt(2 / n_in if kind == "he" else 2 / (n_in + n_out)),
     "that is the standard deviation"),
    ("init_variance", lambda kind, n_in, n_out: 1 / n_in if kind == "he" else 2 / (n_in + n_out),
     "init_variance('he', n_in=2, n_out=1): expected 1, got 0.5"),
]
WRONG += WRONG_6_7


@pytest.mark.parametrize("name, wrong, says", WRONG, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(WRONG)])
def test_each_check_catches_a_plausible_wrong_answer(name, wrong, says, capsys):
    if isinstance(wrong, UserOp):
        wrong = wrong.make()
    limit = sys.getrecursionlimit()
    with pytest.raises(ExerciseFailed) as failed:
        check(name, wrong)
    assert sys.getrecursionlimit() == limit  # restored, whatever the student's code set
    message = str(failed.value)
    assert message.startswith(f"{name}: ") and says in message, message
    assert "\n" not in message and "  " not in message and len(message) < 400  # one line, no double space
    assert failed.value._render_traceback_() == [f"✗ {message}"]  # Jupyter shows this line, no traceback
    assert capsys.readouterr().out == ""  # no pass line


def test_every_check_has_a_wrong_answer_test():
    assert {name for name, _, _ in WRONG} == set(CHECKS)


def test_a_student_exception_is_one_line_naming_the_call():
    def inverse_time(t):
        raise ZeroDivisionError("boom")

    with pytest.raises(ExerciseFailed, match=r"^inverse_time: inverse_time\(1\) raised ZeroDivisionError: boom$"):
        check("inverse_time", inverse_time)
    with pytest.raises(ExerciseFailed, match="should return a Value .so gradients can flow., got float 0.75"):
        check("neuron", lambda w, b, x: 0.75)
    with pytest.raises(ExerciseFailed, match="expected a function, got int 3"):
        check("xor", 3)
    with pytest.raises(KeyError, match="no exercise named 'nope'"):
        check("nope", print)


def test_a_pass_prints_one_line_and_returns_true(capsys):
    assert exercises.check_inverse_time(lambda t: min(0.1, 100 / t)) is True
    assert capsys.readouterr().out == "✓ inverse_time: min(0.1, 100/t) at 8 steps from t = 1 to 100000\n"


def test_quiet_checks_print_nothing(capsys):
    assert check("inverse_time", lambda t: min(0.1, 100 / t), quiet=True) is True
    assert capsys.readouterr().out == ""


def test_worked_examples_must_be_done_by_hand_and_backward_comes_back():
    def with_backward(*numbers):
        x = Value(1.0)
        (x * x).backward()
        return {}

    with pytest.raises(ExerciseFailed, match="^imperial_example: this exercise asks you to write it yourself: "
                                             "imperial_example must not call Value.backward$"):
        check("imperial_example", with_backward)
    x = Value(2.0)
    (x * x).backward()
    assert x.grad == 4.0


def test_the_op_table_is_left_as_it_was():
    # the ops these tests define (my_tanh, wrong_...) are made inside tests only; conftest removes them after each
    assert not [name for name in ops.OPS if name.startswith(("wrong_", "my_"))]


def test_topological_sort_must_be_written_not_borrowed_from_autograd_graph():
    import autograd
    import autograd.graph
    from autograd.graph import reachable, topological_order

    for borrowed in (topological_order, reachable, lambda r: autograd.graph.topological_order(r),
                     lambda r: autograd.topological_order(r), lambda r: topological_order(r),
                     lambda r: list(reversed(autograd.graph.reachable([r])))):
        with pytest.raises(ExerciseFailed) as failed:
            check("topological_sort", borrowed)
        assert str(failed.value).startswith("topological_sort: this exercise asks you to write it yourself: ")
    x = Value(1.0)
    assert topological_order(x * x)[0] is x  # switched back on afterwards
    assert check("topological_sort", topo_iterative_reference, quiet=True)


def test_hidden_tests_use_other_numbers_per_course_seed(monkeypatch, capsys):
    def hard_coded(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c):
        return {"f_a": 0.0, "f_b": 3.0, "f_c": 0.875, "loss": 0.6328125, "delta_c": -1.125, "delta_b": -0.140625,
                "w_3b": 0.30625}

    assert check("imperial_example", hard_coded, quiet=True)  # the lecture's numbers: visible, and typed in
    seen = set()
    for seed in ("1", "2"):
        monkeypatch.setenv("CHALKGRAD_COURSE_SEED", seed)
        with pytest.raises(ExerciseFailed) as failed:
            check("imperial_example", hard_coded, hidden=True)
        seen.add(str(failed.value))
    assert len(seen) == 2  # other numbers for another course


@pytest.mark.parametrize("name, answer", [
    ("xor", lambda x1, x2, W, b, v: np.int64(1) if x1 != x2 and W == [[1, 1], [1, 1]] and x1 in (0, 1) and
     x2 in (0, 1) else np.float64(v[0] * max(0, W[0][0] * x1 + W[1][0] * x2 + b[0]) +
                                  v[1] * max(0, W[0][1] * x1 + W[1][1] * x2 + b[1]))),
    ("momentum_step", lambda w, a, g, lr, m: (np.array(w) - (m * np.array(a) + lr * np.array(g)),
                                              m * np.array(a) + lr * np.array(g))),
    ("l2_gradient", lambda w, lam: lam * np.array(w)),
    ("l2_gradient", lambda w, lam: tuple(lam * x for x in w)),
    ("init_variance", lambda kind, n_in, n_out: Fraction(2, n_in if kind == "he" else n_in + n_out)),
    ("dropout_scale", lambda W, p: np.array(W) * (1 - p)),
    ("inverse_time", lambda t: np.float32(0.1) if t <= 1000 else Fraction(100, t)),
    ("softmax_cross_entropy", lambda z, y: np.exp(np.array(z) - max(z)) / np.exp(np.array(z) - max(z)).sum()
     - np.eye(len(z))[y]),
    ("matrix_backprop", matrix_backprop_as_lists),
    ("permute_hidden", lambda W1, b1, W2, perm: (np.array(W1)[perm], np.array(b1)[perm], np.array(W2)[:, perm])),
    ("bias_trick", lambda w, b, X: (np.r_[b, w], np.c_[np.ones(len(X)), np.array(X)])),
    ("minibatches", batches_numpy),
    ("training_loop", loop_zeroing_the_model),
    ("early_stopping", lambda losses, patience: [np.int64(e) for e in early_by_best_index(losses, patience)]),
    ("batchnorm_backward", lambda x, gamma, eps, dy: {k: np.asarray(v) for k, v in
                                                      zip(("dx", "dgamma", "dbeta"), bn_backward()(x, gamma, eps, dy)
                                                          .values())}),
    ("momentum_step", lambda w, a, g, lr, m: np.array([np.array(w) - (m * np.array(a) + lr * np.array(g)),
                                                       m * np.array(a) + lr * np.array(g)])),
    ("topological_sort", lambda root: collections.deque(topo_iterative_reference(root))),
    ("imperial_example", lambda *args: np.array(imperial_by_hand(*args))),
], ids=["xor-numpy", "momentum-arrays", "l2-array", "l2-tuple", "init-fraction", "dropout-array", "time-mixed",
        "softmax-numpy", "backprop-lists", "permute-numpy", "bias-numpy", "batches-numpy", "loop-model-zero-grad",
        "early-numpy-list", "batchnorm-dict-arrays", "momentum-one-2-row-array", "topological-sort-deque",
        "imperial-numpy-array"])
def test_right_answers_in_any_reasonable_form_pass(name, answer):
    assert check(name, answer, quiet=True) and check(name, answer, hidden=True, quiet=True)


@pytest.mark.parametrize("name, hard_coded", [
    ("matrix_backprop", lambda W1, b1, W2, b2, x, y: {"grad_W1": [[0, 0], [-0.342, -0.342]], "grad_b1": [0, -0.342],
                                                       "grad_W2": [[0, -0.342]], "grad_b2": [-0.38]}),
    ("bias_trick", lambda w, b, X: ([1.0, 0.25, 0.75, 0.75] if len(w) == 3 and w[0] == 0.25 else
                                    [1.0, 0.5, 0.125, 0.25] if len(w) == 3 else [0.5, 0.5, 0.125],
                                    [[1.0, *x] for x in X])),
    ("training_loop", lambda model, optimizer, loss, data, epochs: training_loop_typed_in(model, epochs)),
], ids=["backprop-and", "bias-imperial", "loop-and"])
def test_the_lectures_numbers_typed_in_fail_the_hidden_tests(name, hard_coded):
    assert check(name, hard_coded, quiet=True)
    with pytest.raises(ExerciseFailed):
        check(name, hard_coded, hidden=True)


def training_loop_typed_in(model, epochs):
    """The visible AND run's weights and losses, recorded from the master's loop and typed in."""
    for p, v in zip(model.parameters(), [-0.9602370404599445, 0.9449295696813219, 0.037115540537172795,
                                         0.9692443735060418, -0.9987203448615591, 0.9633094757539081]):
        p.data = v
    return [0.014095726638273, 0.012327217784992, 0.003495563650208, 0.001437703618462, 0.001231248082753][:epochs]


def test_imperial_example_accepts_a_tuple_in_the_named_order():
    def as_tuple(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c):
        return (0.0, 3.0, 0.875, 0.6328125, -1.125, -0.140625, 0.30625)

    assert check("imperial_example", as_tuple, quiet=True)


def test_messages_never_show_minus_zero():
    with pytest.raises(ExerciseFailed) as failed:
        check("l2_gradient", lambda w, lam: [-0.0 * x + 1 for x in w])
    assert "-0 " not in str(failed.value) and "-0," not in str(failed.value)


def topo_iterative_reference(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


@pytest.mark.parametrize("content, says", [
    (b"[1, 2]", "not a notebook (the top level is a JSON list, not an object)"),
    (json.dumps({"cells": [{"cell_type": "code", "source": None}]}).encode(),
     ', cell 1: "source" should be a string or a list of strings, got a JSON null'),
    (b'{"cells": [1]}', ", cell 1: should be a JSON object, got a JSON number"),
    (b'{"cells": {}}', ': "cells" should be a list, got a JSON object'),
    (b'{"cells": [', "not valid JSON (Expecting value at line 1, column 12)"),
    (b'{"cells": ["\xff"]}', "not UTF-8 text (byte 12)"),
], ids=["list", "null-source", "cell-not-object", "cells-not-list", "bad-json", "not-utf8"])
def test_the_command_line_reports_a_broken_notebook_in_one_line(tmp_path, content, says):
    bad = tmp_path / "bad.ipynb"
    bad.write_bytes(content)
    run = subprocess.run([sys.executable, "-m", "autograd.exercises", "student", str(bad), str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"python -m autograd.exercises: {bad}") and says in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_the_command_line_refuses_an_out_that_is_a_file(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    for out in (taken, taken / "sub"):
        run = subprocess.run([sys.executable, "-m", "autograd.exercises", "student", str(MASTERS), str(out)],
                             capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr
        assert run.stderr == f"python -m autograd.exercises: {taken}: exists and is not a folder (out must be a " \
                             f"folder, got {str(out)!r})\n"
        assert taken.read_text() == "keep me"


def test_student_versions_run_top_to_bottom_and_only_the_checks_fail(student_dir, capsys):
    for path in sorted(student_dir.glob("*.ipynb")):
        namespace = {"__name__": "__main__"}
        for i, source in enumerate(code_cells(path)):
            if CHECK_CALL.search(source):
                with pytest.raises(ExerciseFailed):
                    exec(compile(source, f"{path.name} cell {i}", "exec"), namespace)
            else:
                exec(compile(source, f"{path.name} cell {i}", "exec"), namespace)  # a demo cell: no traceback
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("(this demo needs")]
    assert notes == ["(this demo needs my_tanh and my_softplus: write them first)",
                     "(this demo needs backward and central_difference: write them first)",
                     "(this demo needs xor_network: write it first)",
                     "(this demo needs init_variance: write it first)",
                     "(this demo needs training_loop: write it first)"]


def test_the_given_local_derivatives_helper_takes_a_leaf():
    namespace = {}
    cells = code_cells(MASTERS / "02_backward_pass.ipynb")
    for cell in [cells[0], *(c for c in cells if "def local_derivatives" in c)]:  # the imports, the helper
        exec(compile(cell, "02_backward_pass", "exec"), namespace)
    x = Value(2.0)
    assert namespace["local_derivatives"](x) == () and namespace["local_derivatives"](x * 3.0) == (3.0, 2.0)


def test_every_exercise_says_what_to_return():
    markdown = {p.name: "\n".join("".join(c["source"]) for c in json.loads(p.read_text(encoding="utf-8"))["cells"]
                                  if c["cell_type"] == "markdown") for p in MASTERS.glob("*.ipynb")}
    assert all(f'`"{key}"`' in markdown["03_worked_examples.ipynb"] for key in
               ("f_a", "f_b", "f_c", "loss", "delta_c", "delta_b", "w_3b", "f", "grad_W2", "grad_W1", "W2", "W1",
                "f_new"))
    assert "`xor_network(x1, x2, W, b, v)`" in markdown["04_networks.ipynb"]
    assert all(f'`"{key}"`' in markdown["06_matrices_and_softmax.ipynb"] for key in
               ("grad_W1", "grad_b1", "grad_W2", "grad_b2"))
    assert all(f"`{returned}`" in markdown["07_training_loops.ipynb"] for returned in
               ("(w_aug, X_aug)", "(stop_epoch, best_epoch)", "(dx, dgamma, dbeta)"))


def test_a_recursive_sort_fails_even_after_the_student_raised_the_recursion_limit():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # what a student's notebook might do before the check
    try:
        with pytest.raises(ExerciseFailed, match="hit Python's recursion limit; walk the graph with a loop"):
            check("topological_sort", topo_recursive)
        assert sys.getrecursionlimit() == 100_000  # the student's setting, restored after the check
    finally:
        sys.setrecursionlimit(limit)


def test_own_work_switches_off_every_entry_point_that_differentiates():
    import numpy

    from autograd import hessian, jacfwd, jacobian, jacrev, jvp, trace, value_and_grad
    from autograd.fast_backward import backward_floats
    from autograd.graph import reachable, topological_order
    from autograd.modes import OwnWorkError, own_work
    from autograd.value import chain_rule

    x = Value(2.0)
    y = x * x + x
    tape = trace(lambda a, b: a * b + b, 1.0, 2.0)
    assert tape.value_and_grad(1.0, 2.0) == (4.0, (2.0, 2.0))  # the fast entry, compiled before the switch
    saved = Value.backward
    entries = {
        "Value.backward": lambda: y.backward(), "a saved Value.backward": lambda: saved(y),
        "backward_floats": lambda: backward_floats(list(reversed([x, y])), y, 1.0),
        "chain_rule": lambda: chain_rule([y], {y: 1.0}), "micrograd's _backward": lambda: y._backward(),
        "grad": lambda: grad(lambda a: a * a)(3.0), "gradients": lambda: gradients(y, [x]),
        "value_and_grad": lambda: value_and_grad(lambda a: a * a)(3.0),
        "jacobian": lambda: jacobian(lambda a: [a * a])(3.0), "jacrev": lambda: jacrev(lambda a: [a * a])(3.0),
        "hessian": lambda: hessian(lambda a: a * a * a)(3.0), "jvp": lambda: jvp(lambda a: a * a, [3.0], [1.0]),
        "jacfwd": lambda: jacfwd(lambda a: [a * a])(3.0), "trace": lambda: trace(lambda a: a * a, 1.0),
        "tape.value_and_grad": lambda: tape.value_and_grad(1.0, 2.0),
        "tape.batch_value_and_grad": lambda: tape.batch_value_and_grad(numpy.ones(3), numpy.ones(3)),
        "tape.replay": lambda: tape.replay(numpy.ones((2, 3)), numpy.ones(0)),
        "tape.jvp": lambda: tape.jvp(1.0, 2.0, [1.0, 0.0]),
        "topological_order": lambda: topological_order(y), "reachable": lambda: reachable([y]),
    }
    for name, entry in entries.items():
        with own_work("an exercise"), pytest.raises(OwnWorkError) as refused:
            entry()
        assert str(refused.value).startswith("this exercise asks you to write it yourself: an exercise must not "
                                             "call "), name
    with pytest.raises(ZeroDivisionError), own_work("an exercise"):
        raise ZeroDivisionError("a student's error")
    assert tape.value_and_grad(1.0, 2.0) == (4.0, (2.0, 2.0)) and grad(lambda a: a * a)(3.0) == 6.0  # back on
    y.backward()
    assert x.grad == 5.0


def one_hidden_unit_by_backward(w, w1, x):
    a, b = Value(w), Value(w1)
    (a * (b * x).sigmoid()).backward()
    return a.grad, b.grad


def switch_cleared(w, w1, x):  # a student who read autograd/modes.py
    from autograd import modes

    modes.OWN_WORK[0] = ""
    return one_hidden_unit_by_backward(w, w1, x)


def switch_cleared_and_restored(w, w1, x):
    from autograd import modes

    saved, modes.OWN_WORK[0] = modes.OWN_WORK[0], ""
    try:
        return one_hidden_unit_by_backward(w, w1, x)
    finally:
        modes.OWN_WORK[0] = saved


def switch_off_by_a_nested_block(w, w1, x):
    from autograd.modes import own_work

    with own_work(""):
        return one_hidden_unit_by_backward(w, w1, x)


@pytest.mark.parametrize("answer", [switch_cleared, switch_cleared_and_restored, switch_off_by_a_nested_block])
def test_a_student_who_switches_own_work_off_still_scores_nothing(answer):
    from autograd import modes

    with pytest.raises(ExerciseFailed, match="^one_hidden_unit: this exercise asks you to write it yourself: "):
        check("one_hidden_unit", answer)
    assert modes.OWN_WORK[0] == ""  # and the switch is off again after the check
    assert grad(lambda a: a * a)(3.0) == 6.0


def test_catching_own_work_error_and_then_doing_it_by_hand_passes():
    from autograd.modes import OwnWorkError

    def tries_the_engine_first(w, w1, x):
        try:
            return one_hidden_unit_by_backward(w, w1, x)
        except OwnWorkError:
            v = 1 / (1 + math.exp(-w1 * x))
            return v, w * v * (1 - v) * x

    assert check("one_hidden_unit", tries_the_engine_first, quiet=True)
    assert check("one_hidden_unit", tries_the_engine_first, hidden=True, quiet=True)


def test_matrix_backprop_keeps_no_answer_where_the_students_code_can_read_it():
    def reads_the_checks_frames(W1, b1, W2, b2, x, y):
        frame = sys._getframe(1)
        while frame is not None:
            for value in frame.f_locals.values():
                if isinstance(value, dict) and "grad_W1" in value:
                    return value
            frame = frame.f_back
        return {"grad_W1": W1 * 0, "grad_b1": b1 * 0, "grad_W2": W2 * 0, "grad_b2": b2 * 0}

    with pytest.raises(ExerciseFailed, match=r"grad_W1\[1\]\[0\]: expected -0.342, got 0"):
        check("matrix_backprop", reads_the_checks_frames)


def test_a_float_index_in_a_minibatch_is_named_as_a_float():
    def float_indices(n, batch_size, rng):
        order = [float(i) for i in range(n)]
        rng.shuffle(order)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]

    with pytest.raises(ExerciseFailed, match=r"batch 0 should hold whole numbers \(indices\), got float \d\.0$"):
        check("minibatches", float_indices)


def test_a_generator_that_fails_while_it_yields_is_one_line():
    def minibatches(n, batch_size, rng):
        yield [0]
        raise NameError("name 'orde' is not defined")

    with pytest.raises(ExerciseFailed, match=r"^minibatches: minibatches\(n=10, batch_size=3, rng\) \(epoch 1\) raised "
                                             r"NameError: name 'orde' is not defined$"):
        check("minibatches", minibatches)


def test_the_installed_package_holds_no_master_notebook():
    import configparser

    import setuptools

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    packages = setuptools.find_packages(str(ROOT), include=cfg["options.packages.find"]["include"].split())
    assert "autograd.testing.exercises" in packages and all(p.split(".")[0] in ("autograd", "nn") for p in packages)
    assert not any("ipynb" in pattern for pattern in cfg["options.package_data"].values())
    assert not [path for p in packages for path in (ROOT / p.replace(".", "/")).rglob("*.ipynb")]


@pytest.mark.parametrize("seed", [1, 2, 8172])
def test_matrix_backprops_hidden_networks_expose_a_missing_or_wrong_relu_derivative(seed):
    """Every course seed's networks have a hidden unit that is off and one at z = 0 exactly."""
    for wrong, says in [(backprop_with(no_mask=True), r"that hidden unit is off|ReLU′\(0\) is 0"),
                        (backprop_with(relu0=True), r"ReLU′\(0\) is 0")]:
        with pytest.raises(ExerciseFailed, match=says):
            check("matrix_backprop", wrong, seed=seed)
    assert check("matrix_backprop", backprop_with(), seed=seed, quiet=True)


def test_forward_mode_in_a_do_it_yourself_exercise_is_named_as_forward_mode():
    from autograd import jvp

    def by_jvp(w, w1, x):
        f = lambda a, b: a * (b * x).sigmoid()  # noqa: E731
        return jvp(f, (w, w1), (1.0, 0.0))[1], jvp(f, (w, w1), (0.0, 1.0))[1]

    with pytest.raises(ExerciseFailed, match=r"one_hidden_unit must not call autograd's forward mode \(jvp, "):
        check("one_hidden_unit", by_jvp)


def shortcut_pattern():
    """The grep pattern docs/teaching.md gives instructors for submissions that deserve a read."""
    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    block = text.split("<!-- shortcut-grep:", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return re.search(r"grep -lE '([^']+)'", block)[1]


@pytest.mark.parametrize("shortcut", [
    "def check_xor(*args, **kwargs):\n    return True",
    'from autograd import modes\nmodes.OWN_WORK[0] = ""',
    'os.environ["CHALKGRAD_COURSE_SEED"] = "0"',
    "from autograd.testing.exercises.networks import _xor_reference",
    "import torch",
    "saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k.startswith('autograd')}",
    "importlib.reload(autograd.modes)",
    'out = subprocess.run([sys.executable, "-c", code])',
    "sys._getframe(1).f_locals",
    "partials=lambda m, out, x: ops.TANH.partials(m, out, x)",
])
def test_the_instructors_grep_finds_each_shortcut_it_lists_and_no_master(shortcut):
    pattern = re.compile(shortcut_pattern())  # grep -E's syntax here is also Python's
    assert pattern.search(json.dumps({"cells": [{"source": shortcut}]}))  # as the .ipynb file holds it
    for master in MASTERS.glob("*.ipynb"):
        assert not pattern.search(master.read_text(encoding="utf-8")), master.name


def test_one_hidden_unit_says_when_the_two_derivatives_are_swapped():
    def swapped(w, w1, x):
        v = 1 / (1 + math.exp(-w1 * x))
        return w * v * (1 - v) * x, v

    with pytest.raises(ExerciseFailed, match=r"^one_hidden_unit: df/dw at .*: expected 0.768525, got 0.0933946 "
                                             r"\(the two are swapped: return \(df/dw, df/dw1\), in that order\)$"):
        check("one_hidden_unit", swapped)


def test_early_stopping_says_epochs_count_from_one_when_they_count_from_zero():
    def from_zero(val_losses, patience):
        best, best_epoch, waited = math.inf, 0, 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, best_epoch, waited = loss, epoch, 0
            else:
                waited += 1
                if waited == patience:
                    return epoch, best_epoch
        return len(val_losses) - 1, best_epoch

    with pytest.raises(ExerciseFailed, match=r"stop_epoch: expected 6, got 5 \(epochs count from 1: the first epoch is "
                                             r"epoch 1, as enumerate\(val_losses, 1\) gives\)$"):
        check("early_stopping", from_zero)


def test_batchnorm_backward_names_the_missing_variance_term():
    def without_the_variance_term(x, gamma, eps, dy):
        m = len(x)
        mu = sum(x) / m
        s = math.sqrt(sum((v - mu) ** 2 for v in x) / m + eps)
        x_hat = [(v - mu) / s for v in x]
        return [gamma / s * (d - sum(dy) / m) for d in dy], sum(d * h for d, h in zip(dy, x_hat)), sum(dy)

    with pytest.raises(ExerciseFailed, match=r"dx\[0\]: expected 0.792236, got 0.334076 \(the term through σ², "
                                             r"−x̂·mean\(dy·x̂\), is missing: dx = γ/√\(σ² \+ ε\)"):
        check("batchnorm_backward", without_the_variance_term)


def test_a_one_element_array_for_a_number_is_told_to_return_the_number():
    def xor_as_a_1_by_1_product(x1, x2, W, b, v):
        h = np.maximum(0, np.array(W, float).T @ np.array([x1, x2], float) + b)
        return np.array(v, float).reshape(1, 2) @ h

    with pytest.raises(ExerciseFailed, match=r"should be a number, got ndarray array\(\[0\.\]\) \(an array holding "
                                             r"one number: return the number itself, e\.g\. with \.item\(\)\)$"):
        check("xor", xor_as_a_1_by_1_product)


def engine_imported_afresh(w, w1, x):
    """A second copy of autograd, as if the switch lived in the first copy only."""
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "autograd" or k.startswith("autograd.")}
    try:
        import autograd as fresh

        a, b = fresh.Value(w), fresh.Value(w1)
        (a * (b * x).sigmoid()).backward()
        return a.grad, b.grad
    finally:
        sys.modules.update(saved)


def test_a_fresh_copy_of_the_engine_is_switched_off_too():
    with pytest.raises(ExerciseFailed, match="this exercise asks you to write it yourself: one_hidden_unit must "
                                             "not call Value.backward$"):
        check("one_hidden_unit", engine_imported_afresh)
    assert grad(lambda a: a * a)(3.0) == 6.0  # the engine works again after the check


def test_reloading_the_switch_module_does_not_switch_it_off():
    code = """if True:
        import importlib
        from autograd import Value, modes
        from autograd.testing.exercises import ExerciseFailed, check

        def reloaded(w, w1, x):
            importlib.reload(modes)
            a, b = Value(w), Value(w1)
            (a * (b * x).sigmoid()).backward()
            return a.grad, b.grad

        try:
            check("one_hidden_unit", reloaded)
        except ExerciseFailed as e:
            print(e)
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip().endswith("this exercise asks you to write it yourself: one_hidden_unit must not call "
                                "Value.backward"), out
