"""The exercises as an nbgrader course, end to end, with nbgrader itself (the `grading` extra).

A throwaway course is built from the masters in a temporary folder by the instructor's guide's
commands (docs/teaching.md), run as written: every assignment is released (`nbgrader
generate_assignment`), three made-up submissions per assignment are collected and autograded (the
masters' solutions; typical mistakes; shortcuts) under a course seed, feedback is generated and the
grades are exported to CSV, whose every score is asserted.  The no-nbgrader generator
(`python -m autograd.exercises student`) must hand out exactly what nbgrader releases."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograd.exercises import write_student_versions
from autograd.testing.exercises import ExerciseFailed, check

pytest.importorskip("nbgrader", reason="nbgrader comes with the `grading` extra (pip install -e '.[grading]')")

ROOT = Path(__file__).resolve().parents[2]
MASTERS = ROOT / "notebooks" / "exercises"
ASSIGNMENTS = {f"ex{i + 1}": p for i, p in enumerate(sorted(MASTERS.glob("*.ipynb")))}
POINTS = {"ex1": 4, "ex2": 6, "ex3": 8, "ex4": 6, "ex5": 6, "ex6": 8, "ex7": 12}


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def by_id(nb):
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]}


# Each submission: the release with every solution cell filled in from the master, then these cells
# replaced (grade_id -> new source, or (old, new) text replacements in the master's solution).
MISTAKES = {
    "ex1": {"tanh_partials": [("(1 - out * out,)", "(out * out - 1,)")]},  # a flipped sign
    "ex2": {"backward": [("p.grad += node.grad * d", "p.grad = node.grad * d")],  # `=` for `+=`
            "central_difference": [("(f(x + h) - f(x - h))", "(f(x - h) - f(x + h))")]},
    "ex3": {"one_hidden_unit": [("w * v * (1 - v) * x", "w * v * (1 - v)")],  # a missing chain factor
            "imperial_example": [("delta_c * w_c[1] * relu_slope(s_b)", "delta_c * w_c[1]")]},  # relu' dropped
    "ex4": {"mlp": [("return sum((w * hi for w, hi in zip(w_out, h)), b_out)",
                     "return sum((w * hi for w, hi in zip(w_out, h)), b_out).relu()")],
            "xor_network": [("W[0][j] * x1 + W[1][j] * x2", "W[j][0] * x1 + W[j][1] * x2")]},  # W, not Wᵀ
    "ex5": {"momentum_step": [("wi - ai", "wi + ai")], "dropout_scale": [("w * (1 - p)", "w * p")]},
    "ex6": {"loss_gradient": [("S = 2 * (w * v - y)", "S = w * v - y")],  # ℓ′ without its factor 2
            "matrix_backprop": [("np.outer(delta1, x)", "np.outer(x, delta1)")]},  # the numerator layout's transpose
    "ex7": {"training_loop": [("            optimizer.zero_grad()\n", "")],  # the forgotten zero_grad
            "perceptron_update": [("<= 0", "< 0")],
            "batchnorm_forward": [("for xi in x) / m", "for xi in x) / (m - 1)")]},
}
LOST_TO_MISTAKES = {"ex1": 1, "ex2": 4, "ex3": 5, "ex4": 4, "ex5": 3, "ex6": 4, "ex7": 4}

SHORTCUTS = {
    "ex1": {  # the engine's own rule and op handed in
        "tanh_partials": "from autograd.table import OPS\ntanh_partials = OPS['tanh'].rule\n"
                         "my_tanh = defop('my_tanh', forward=lambda m, x: m.tanh(x), partials=tanh_partials, "
                         "replace=True)",
        "sigmoid_partials": "from autograd.table import OPS\nmy_sigmoid = OPS['sigmoid']"},
    "ex2": {  # the engine's sort and backward
        "topological_sort": "from autograd import topological_order\n\ndef topological_sort(root):\n"
                            "    return topological_order(root)",
        "backward": "def local_derivatives(node):\n    return ()\n\ndef backward(root):\n    root.backward()"},
    "ex3": {  # grad, gradients, and the lecture's numbers typed in
        "one_hidden_unit": "from autograd import grad\n\ndef sigmoid(s):\n    return 1 / (1 + math.exp(-s))\n\n"
                           "def one_hidden_unit(w, w1, x):\n"
                           "    return grad(lambda a, b: a * (b * x).sigmoid(), argnums=(0, 1))(w, w1)",
        "imperial_example": "def imperial_example(x, y, lr, w_a, b_a, w_b, b_b, w_c, b_c):\n"
                            "    return {'f_a': 0.0, 'f_b': 3.0, 'f_c': 0.875, 'loss': 0.6328125, 'delta_c': -1.125,"
                            " 'delta_b': -0.140625, 'w_3b': 0.30625}",
        "and_example": "from autograd import Value\nfrom autograd.functional import gradients\n\n"
                       "def and_example(W1, W2, x, y, lr):\n    V1 = [[Value(w) for w in r] for r in W1]\n"
                       "    V2 = [Value(w) for w in W2]\n"
                       "    f = sum((w2 * sum((w * xi for w, xi in zip(r, x)), Value(0.0)).relu() "
                       "for w2, r in zip(V2, V1)), Value(0.0))\n"
                       "    g = gradients((y - f) ** 2, V2 + V1[0] + V1[1])\n"
                       "    return {'f': f.data, 'loss': (y - f.data) ** 2, 'grad_W2': g[:2], "
                       "'grad_W1': [g[2:4], g[4:]], 'W2': W2, 'W1': W1, 'f_new': 0.0}"},
    "ex4": {"xor_network": "def xor_network(x1, x2, W=None, b=None, v=None):\n    return float(x1 != x2)"},
    "ex5": {  # a lookup of the lecture's steps and backward(); right answers in other forms pass
        "inverse_time": "def inverse_time(t):\n    return {1: 0.1, 2: 0.1, 10: 0.1, 999: 0.1, 1000: 0.1, "
                        "1001: 100 / 1001, 2000: 0.05, 10 ** 5: 0.001}[t]",
        "l2_gradient": "from autograd import Value\n\ndef l2_gradient(w, lam):\n    vs = [Value(x) for x in w]\n"
                       "    (lam / 2 * sum(v * v for v in vs)).backward()\n    return [v.grad for v in vs]",
        "momentum_step": "import numpy as np\n\ndef momentum_step(w, a, g, lr, m):\n"
                         "    a = m * np.array(a) + lr * np.array(g)\n    return np.array(w) - a, a",
        "init_variance": "from fractions import Fraction\n\ndef init_variance(kind, n_in, n_out):\n"
                         "    return Fraction(2, n_in if kind == 'he' else n_in + n_out)"},
    "ex6": {  # the engine's backward, and the tutorial's gradients typed in
        "softmax_cross_entropy": "from autograd import Value\nfrom autograd.functions import log_softmax\n\n"
                                 "def softmax_cross_entropy(z, y):\n    zs = [Value(v) for v in z]\n"
                                 "    (-log_softmax(zs)[y]).backward()\n    return [v.grad for v in zs]",
        "matrix_backprop": "def matrix_backprop(W1, b1, W2, b2, x, y):\n"
                           "    return {'grad_W1': [[0, 0], [-0.342, -0.342]], 'grad_b1': [0, -0.342], "
                           "'grad_W2': [[0, -0.342]], 'grad_b2': [-0.38]}"},
    "ex7": {  # backward() for batch norm's gradients, the visible curves' answers looked up
        "batchnorm_backward": "from autograd import Value\n\ndef batchnorm_backward(x, gamma, eps, dy):\n"
                              "    xs, g, b = [Value(v) for v in x], Value(gamma), Value(0.0)\n"
                              "    mu = sum(xs) / len(x)\n"
                              "    s = (sum((v - mu) ** 2 for v in xs) / len(x) + eps) ** 0.5\n"
                              "    sum(d * (g * (v - mu) / s + b) for d, v in zip(dy, xs)).backward()\n"
                              "    return [v.grad for v in xs], g.grad, b.grad",
        "early_stopping": "def early_stopping(val_losses, patience):\n"
                          "    return {(8, 3): (6, 3), (5, 2): (4, 2), (3, 2): (3, 3), (8, 4): (7, 3), (3, 1): (3, 2)}"
                          "[len(val_losses), patience]"},
}
LOST_TO_SHORTCUTS = {"ex1": 2, "ex2": 5, "ex3": 8, "ex4": 2, "ex5": 2, "ex6": 5, "ex7": 5}


def guide_block(marker):
    """A bash block of docs/teaching.md, as written (the instructor's guide's commands)."""
    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    return re.search(rf"<!-- {marker}:.*?-->\n```bash\n(.*?)```", text, re.S).group(1)


def run_as_written(block, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def submission(release, master, changes):
    nb = json.loads(release.read_text(encoding="utf-8"))
    solutions = by_id(json.loads(master.read_text(encoding="utf-8")))
    for gid, cell in by_id(nb).items():
        if not cell["metadata"]["nbgrader"]["solution"]:
            continue
        text = source(solutions[gid])
        change = changes.get(gid, [])
        if isinstance(change, str):
            text, change = change, []
        for old, new in change:
            assert old in text, (gid, old)
            text = text.replace(old, new)
        cell["source"] = text
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The guide's set-up block run in a folder next to a 'clone' (a link to this checkout), three
    submissions per assignment put where the guide says, then the guide's grading block."""
    top = tmp_path_factory.mktemp("teaching")
    (top / "chalkgrad").symlink_to(ROOT)
    run_as_written(guide_block("grading-setup"), top)
    root = top / "mycourse"
    for name, master in ASSIGNMENTS.items():
        release = root / "release" / master.stem / master.name
        for student, changes in [("solutions", {}), ("mistakes", MISTAKES[name]), ("shortcuts", SHORTCUTS[name])]:
            folder = root / "submitted" / student / master.stem
            folder.mkdir(parents=True)
            (folder / master.name).write_text(json.dumps(submission(release, master, changes)), encoding="utf-8")
    run_as_written(guide_block("grading-run"), top)
    return root


def test_the_course_grades_every_submission_as_expected(course):
    rows = list(csv.DictReader((course / "grades.csv").open(encoding="utf-8")))
    names = {master.stem: name for name, master in ASSIGNMENTS.items()}
    scores = {(r["student_id"], names[r["assignment"]]): float(r["raw_score"]) for r in rows}
    maxima = {names[r["assignment"]]: float(r["max_score"]) for r in rows}
    assert maxima == {name: float(p) for name, p in POINTS.items()} and len(rows) == 3 * len(POINTS)
    for name, total in POINTS.items():
        assert scores[("solutions", name)] == total, name
        assert scores[("mistakes", name)] == total - LOST_TO_MISTAKES[name], name
        assert scores[("shortcuts", name)] == total - LOST_TO_SHORTCUTS[name], name


def test_feedback_names_the_shortcut(course):
    feedback = course / "feedback" / "shortcuts" / "02_backward_pass" / "02_backward_pass.html"
    text = feedback.read_text(encoding="utf-8")
    assert "this exercise asks you to write it yourself" in text and "Value.backward" in text


def test_the_hidden_tests_ran_on_the_course_seed(course):
    """The shortcut's typed-in lecture numbers fail on the networks drawn from the guide's seed, 8172."""
    namespace = {}
    exec(SHORTCUTS["ex3"]["imperial_example"], namespace)
    with pytest.raises(ExerciseFailed) as failed:
        check("imperial_example", namespace["imperial_example"], seed=8172, quiet=True)
    drawn = re.search(r"x=\[[^\]]*\]", str(failed.value)).group(0)
    feedback = course / "feedback" / "shortcuts" / "03_worked_examples" / "03_worked_examples.html"
    assert drawn in feedback.read_text(encoding="utf-8")


def test_the_generator_hands_out_exactly_what_nbgrader_releases(course, tmp_path):
    write_student_versions(MASTERS, tmp_path)
    for master in ASSIGNMENTS.values():
        ours = json.loads((tmp_path / master.name).read_text(encoding="utf-8"))
        theirs = json.loads((course / "release" / master.stem / master.name).read_text(encoding="utf-8"))
        assert [(c["cell_type"], source(c)) for c in ours["cells"]] == \
            [(c["cell_type"], source(c)) for c in theirs["cells"]]
        assert all(c.get("outputs", []) == [] for c in ours["cells"])
