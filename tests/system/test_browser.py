"""chalkgrad in the browser (docs/browser.md): the site's Python in CPython, nn without numpy, and the
built page driven in headless Chromium (Playwright, the system's /usr/bin/chromium) with every request
that is not to the local test server blocked.

The page tests build web/dist/ when it is missing or stale (``python web/build.py --if-stale``: npm ci
and a pip download, both pinned) and skip, saying why, where Node.js/npm, Chromium or playwright is
missing.  One browser page is shared by the module: Pyodide starts once.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import autograd
from autograd.viz import number_text

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
LOAD_TIMEOUT_MS = 180_000  # Pyodide's first start on a loaded 2-core machine: 10-30 s seen
TRAIN_TIMEOUT_MS = 120_000

sys.path.insert(0, str(WEB / "py"))
from chalkweb import bridge, explain, export, lab, playground, recording  # noqa: E402


def _load_build():
    spec = importlib.util.spec_from_file_location("chalkgrad_web_build", WEB / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


# --- the site's Python, in CPython ----------------------------------------------------------------
def _dot_nodes(dot: str) -> list[str]:
    """Node statements of draw_dot's DOT text (record nodes n<i>, op nodes o<i>)."""
    return re.findall(r"^\s*([no]\d+) \[", dot, re.M)


def test_lab_runs_the_example_and_draws_values_and_gradients():
    r = lab.run(lab.EXAMPLE)
    assert r["ok"], r
    assert r["nodes"] == 10  # x1 x2 w1 w2 b, two products, two sums, tanh
    assert len(_dot_nodes(r["dot"])) == 15  # 10 values + 5 op nodes
    assert "{x1 | data 2.000 | grad -1.500}" in r["dot"]  # dx1 = w1 (1 - tanh(n)^2) = -3 * 0.5
    assert len(r["forward"]) == len(r["backward"]) == 10
    assert "step 1/10" in r["backward"][0] and "step 10/10" in r["backward"][-1]


def test_lab_draws_the_last_assigned_value_without_a_final_expression():
    r = lab.run("a = Value(3.0, label='a')\nb = a * a; b.label = 'b'\nb.backward()\nprint(a.grad)\n")
    assert r["ok"] and r["stdout"] == "6.0\n"
    assert "{b | data 9.000 | grad 1.000}" in r["dot"]


@pytest.mark.parametrize("source, expected", [
    ("x = (1 +\n", "SyntaxError: '(' was never closed"),
    ("x = Value(1.0)\ny = x / 0\n", "line 2: ZeroDivisionError: div(1.0, 0.0)"),
    ("x = 1\n", "nothing to draw"),
])
def test_lab_reports_errors_as_python_messages(source, expected):
    r = lab.run(source)
    assert not r["ok"] and expected in r["error"]
    assert "Traceback" not in r["error"] and "chalkweb" not in r["error"]


@pytest.mark.parametrize("settings", [
    {"dataset": "moons", "hidden": "5, 4", "activation": "relu", "l2": 0.01, "batch_size": 7,
     "loss": "binary_cross_entropy"},
    {"dataset": "blobs3", "hidden": "4", "features": "x1, x2, x1x2, sinx1", "l2": 0.001, "batch_size": 7},
    {"dataset": "sine", "hidden": "3", "features": "x1, sinx1", "batch_size": 7},
])
def test_playground_compiled_gradients_equal_eager_ones(settings):
    grads = []
    for compiled in (True, False):
        pg = playground.Playground(**settings, compiled=compiled)
        loss = pg.train_batch(pg.train[:7])  # nn.train_step: gradients, then the optimiser's step
        grads.append((loss, [p.grad for p in pg.params], [p.data for p in pg.params]))
    (l1, g1, w1), (l2, g2, w2) = grads
    assert l1 == pytest.approx(l2, rel=1e-12)
    assert g1 == pytest.approx(g2, rel=1e-9, abs=1e-12)
    assert w1 == pytest.approx(w2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("dataset, epochs", [("xor", 400), ("moons", 400), ("circles", 400), ("spirals", 1500),
                                             ("blobs3", 400)])
def test_playground_fits_each_dataset_with_its_defaults(dataset, epochs):
    pg = playground.Playground(dataset)
    assert len(pg.X) == 200 and len(pg.test) == 60 and not set(pg.test) & set(pg.train)
    assert set(pg.y) == ({0.0, 1.0, 2.0} if dataset == "blobs3" else {-1.0, 1.0})
    first = pg.step()["loss"]
    for _ in range(epochs):
        status = pg.step()
        if status["accuracy"] == 1.0:
            break
    assert status["accuracy"] >= 0.95 and status["test_accuracy"] >= 0.85 and status["loss"] < first


def test_playground_spiral_takes_hundreds_of_epochs_so_there_is_something_to_watch():
    pg = playground.Playground()  # the page's defaults: spirals of 1.25 turns, 8-8 tanh, momentum, lr 0.03
    for _ in range(300):
        pg.step()
    assert pg.accuracy() < 0.8  # at the page's default 30 epochs/s: still learning after 10 s


def test_playground_regression_fits_the_sine_curve():
    pg = playground.Playground("sine", hidden="8")
    assert pg.task == "regression" and pg.loss_name == "squared_error" and pg.accuracy() is None
    for _ in range(300):
        pg.step()
    assert pg.losses[-1] < 0.15 * pg.losses[0] and len(pg.test_losses) == 300  # the noise (0.1) floors it at 0.01
    box = pg.input_box()
    assert pg.curve(5, box)[2] == pytest.approx(pg.scores([[box[0] / 2 + box[1] / 2, 0.0]])[0])  # the middle


def test_playground_bad_loss_for_the_task_names_the_choices():
    with pytest.raises(ValueError, match="loss must be one of cross_entropy, multiclass_hinge for multiclass data"):
        playground.Playground("blobs3", loss="hinge")


def test_playground_recording_restores_an_epoch_bit_for_bit_and_keeps_its_budget():
    pg = playground.Playground("moons", hidden="4")
    box = pg.input_box()
    grids = [pg.grid(8, box)]
    for _ in range(6):
        pg.step()
        grids.append(pg.grid(8, box))
    for epoch in (0, 3, 5):
        with pg.at_epoch(epoch) as shown:
            assert shown == epoch and pg.grid(8, box) == grids[epoch]
    assert pg.grid(8, box) == grids[-1]  # the parameters are back
    rec = recording.Recording(budget_bytes=10 * 8 * len(pg.params))  # room for 10 snapshots
    for epoch in range(100):
        rec.add(epoch, [float(epoch)] * len(pg.params))
    assert rec.nbytes() <= rec.budget and rec.stride > 1 and 0 in rec.snapshots
    assert rec.snapshots[rec.nearest(50)][0] == rec.nearest(50) <= 50


def test_playground_sample_graph_holds_that_samples_gradients():
    pg = playground.Playground("xor", hidden="3")
    pg.step()
    before = [p.grad for p in pg.params]
    g = explain.sample_graph(pg, 5)
    assert [p.grad for p in pg.params] == before  # drawing leaves the training gradients alone
    for p in pg.params:
        p.grad = 0.0
    loss = pg.sample_loss(5)[0]
    loss.backward()
    assert g["nodes"] == len(autograd.topological_order(loss)) and g["loss"] == loss.data
    assert all(f"grad {number_text(p.grad)}" in g["dot"] for p in pg.params) and "loss" in g["dot"]
    assert "subgraph cluster_" in g["dot"]  # a box per neuron


def test_playground_zero_loss_sample_says_why():
    pg = playground.Playground("moons", hidden="4")
    for _ in range(300):
        pg.step()
    scores = pg.scores(pg.X)
    i = next(k for k, s in enumerate(scores) if s * pg.y[k] > 1.0)
    g = explain.sample_graph(pg, i)
    assert g["loss"] == 0.0 and "not a bug" in g["why"] and "≥ 1" in g["why"]
    j = min(range(len(scores)), key=lambda k: scores[k] * pg.y[k])
    assert explain.sample_graph(pg, j)["why"] == ""


def test_playground_neuron_formula_has_the_engines_numbers():
    pg = playground.Playground("moons", hidden="3")
    for _ in range(5):
        pg.step()
    v = explain.neuron_view(pg, 1, 2, 4)
    loss, layers, zs = pg.sample_loss(4)
    for p in pg.params:
        p.grad = 0.0
    loss.backward()
    neuron, z = pg.model.layers[0].neurons[2], zs[0][2]
    assert v["z"] == z.data and v["grad_z"] == z.grad
    num = explain.num
    w1 = neuron.w[0].data
    assert v["formula"][0].startswith(f"z = {num(w1) if w1 > 0 else '−' + num(-w1)}·x₁")
    assert v["formula"][0].endswith(f"= {num(z.data)}")
    assert v["formula"][1] == f"out = tanh({num(z.data)}) = {num(layers[1][2].data)}"
    assert f"= {num(neuron.w[0].grad)}" in v["formula"][4] and v["formula"][-1] == f"∂L/∂b = ∂L/∂z = {num(z.grad)}"
    assert "grad" in v["dot"] and "tanh" in v["dot"]


def test_exported_script_retrains_the_same_network_with_fit(tmp_path):
    pg = playground.Playground("blobs3", hidden="4", features="x1, x2, x1sq", l2=0.001)
    for _ in range(40):
        pg.step()
    path = tmp_path / "run.py"
    path.write_text(export.script(pg, {"dataset": "blobs3"}))
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"training accuracy {pg.accuracy():.4f}" in out.stdout
    assert f"test accuracy {pg.accuracy(pg.test):.4f}" in out.stdout


# --- nn's model-building parts without numpy ----------------------------------------------------
NO_NUMPY = textwrap.dedent("""
    import json, sys

    class NoNumpy:
        def find_spec(self, name, path=None, target=None):
            if name == "numpy" or name.startswith("numpy."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name="numpy")
            return None

    sys.meta_path.insert(0, NoNumpy())
    import autograd, nn
    from autograd import trace

    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    X, y = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [-1.0, 1.0, 1.0, -1.0]
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = nn.mean_loss(nn.hinge, [model(x) for x in X], y) + nn.l2(model.parameters(), 1e-4)
        loss.backward()
        opt.step()
        losses.append(loss.data)
    tape = trace(lambda a, b: nn.losses.binary_cross_entropy(model([a, b]), 1.0), 0.0, 1.0)
    tape.value_and_grad(0.0, 1.0)
    from nn import datasets
    Xm, ym = datasets.moons(20, seed=0, labels="sign")
    stepped = nn.train_step(model, nn.hinge, opt, Xm, ym).loss
    sys.path.insert(0, sys.argv[1])
    from chalkweb import lab, playground
    pg = playground.Playground("xor")
    for _ in range(3):
        pg.step()
    drawn = lab.run(lab.EXAMPLE)["ok"]
    try:
        nn.fit
        fit = "imported"
    except ModuleNotFoundError as e:
        fit = e.name
    print(json.dumps({"losses": losses, "numpy": "numpy" in sys.modules, "fit": fit, "drawn": drawn,
                      "playground_epoch": pg.epoch, "moons": [Xm, ym], "stepped": stepped}))
""")


def test_nn_builds_and_trains_models_without_numpy():
    out = subprocess.run([sys.executable, "-c", NO_NUMPY, str(WEB / "py")], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["numpy"] is False
    assert r["losses"][-1] < 0.5 * r["losses"][0]
    assert r["fit"] == "numpy"  # the numpy-needing parts say what is missing, on first use
    assert r["drawn"] and r["playground_epoch"] == 3
    from nn import datasets

    X, y = datasets.moons(20, seed=0, labels="sign")  # with numpy: arrays of the same numbers
    assert r["moons"] == [X.tolist(), y.tolist()] and math.isfinite(r["stepped"])


def test_nn_lazy_names_cover_what_their_modules_export():
    import nn
    from nn import _LAZY_NAMES

    for module in set(_LAZY_NAMES.values()):
        exported = importlib.import_module(f"nn.{module}").__all__
        assert {n for n, m in _LAZY_NAMES.items() if m == module} == set(exported)
    assert set(_LAZY_NAMES) <= set(nn.__all__) and set(_LAZY_NAMES) <= set(dir(nn))
    import nn.evaluate  # noqa: F401 - importing the submodule must not replace the function
    assert callable(nn.evaluate) and nn.evaluate.__name__ == "evaluate"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nn.nope  # noqa: B018


# --- the built page in headless Chromium ---------------------------------------------------------
@pytest.fixture(scope="module")
def site(built_site):
    """web/dist/ built if missing or stale, served from a local thread; its URL."""
    return built_site(WEB / "build.py", build.is_stale(), build.DIST, build.Handler, timeout=600)


@pytest.fixture(scope="module")
def browser(offline_page, site):
    opened = offline_page(site, service_workers="block", viewport={"width": 1280, "height": 900})
    page = opened["page"]
    page.set_default_timeout(60_000)  # a loaded 2-core machine: each wait below usually takes < 1 s
    start = time.perf_counter()
    page.goto(site + "#lab")
    page.wait_for_function("document.getElementById('status').dataset.ready !== 'false'",
                           timeout=LOAD_TIMEOUT_MS)
    assert page.get_attribute("#status", "data-ready") == "true", page.text_content("#status")
    print(f"\nPyodide page ready in {time.perf_counter() - start:.1f} s")
    return {**opened, "url": site}


def _svg_nodes(page, selector: str) -> int:
    return page.locator(f"{selector} svg g.node").count()


def test_page_lab_example_runs_and_shows_nodes_and_a_gradient(browser):
    page = browser["page"]
    expected = lab.run(lab.EXAMPLE)
    assert page.input_value("#lab-code") == lab.EXAMPLE
    runs = int(page.get_attribute("#lab-graph", "data-runs"))  # the page ran the example once at start
    page.click("#lab-run")
    page.wait_for_function(f"document.getElementById('lab-graph').dataset.runs === '{runs + 1}'")
    assert _svg_nodes(page, "#lab-graph") == len(_dot_nodes(expected["dot"])) == 15
    assert "grad -1.500" in page.text_content("#lab-graph svg")
    assert page.is_hidden("#lab-error")


def test_page_lab_player_steps_change_the_drawing(browser):
    page = browser["page"]
    page.select_option("#lab-step-mode", "backward")
    page.wait_for_function("document.getElementById('lab-step-caption').textContent === 'step 1/10'")
    first = page.inner_html("#lab-step-graph")
    page.click("#lab-step-next")
    page.wait_for_function("document.getElementById('lab-step-caption').textContent === 'step 2/10'")
    second = page.inner_html("#lab-step-graph")
    assert second != first and "step 2/10" in page.text_content("#lab-step-graph svg")
    page.click("#lab-step-prev")
    page.wait_for_function("document.getElementById('lab-step-caption').textContent === 'step 1/10'")
    page.select_option("#lab-step-mode", "forward")
    page.wait_for_function("document.querySelector('#lab-step-graph svg').textContent.includes('forward pass')")


def test_page_lab_syntax_error_shows_the_message(browser):
    page = browser["page"]
    page.fill("#lab-code", "x = Value(2.0)\ny = (x * 3\n")
    page.click("#lab-run")
    page.wait_for_selector("#lab-error:not([hidden])")
    message = page.text_content("#lab-error")
    assert "SyntaxError" in message and "line 2" in message and "Traceback" not in message
    page.click("#lab-example")
    assert page.input_value("#lab-code") == lab.EXAMPLE


def test_page_lab_error_marks_the_old_graph_stale_and_the_node_limit_is_a_control(browser):
    page = browser["page"]
    page.click("#tab-lab")
    page.click("#lab-example")
    runs = int(page.get_attribute("#lab-graph", "data-runs"))
    page.click("#lab-run")
    page.wait_for_function(f"document.getElementById('lab-graph').dataset.runs === '{runs + 1}'")
    assert page.get_attribute("#lab-graph", "data-stale") == "false" and page.is_hidden("#lab-stale")
    assert page.url.endswith("#lab")  # the playground's settings change its own address only while it is shown
    page.fill("#lab-code", "x = Value(2.0)\ny = (x * 3\n")
    page.click("#lab-run")
    page.wait_for_selector("#lab-stale:not([hidden])")
    assert page.get_attribute("#lab-graph", "data-stale") == "true"
    assert "stale" in page.get_attribute("#lab-graph", "class")
    assert "stale" in page.text_content("#lab-step-caption") and "step 1/" not in page.text_content("#lab-step-caption")
    _artefact(page, "lab_stale")
    chain = "a = Value(1.0, label='a')\nfor k in range(300):\n    a = a * 1.0 + 0.0\na\n"  # 1,201 values
    page.fill("#lab-code", chain)
    page.click("#lab-run")
    page.wait_for_function("document.getElementById('lab-error').textContent.includes('node limit')")
    assert "more than max_nodes=500" in page.text_content("#lab-error")
    page.fill("#lab-max-nodes", "1300")
    page.dispatch_event("#lab-max-nodes", "change")
    page.wait_for_function(f"document.getElementById('lab-graph').dataset.runs === '{runs + 2}'", timeout=120_000)
    assert page.get_attribute("#lab-graph", "data-stale") == "false" and page.is_hidden("#lab-error")
    page.fill("#lab-max-nodes", "500")
    page.fill("#lab-code", "m = nn.MLP(2, [2, 1], seed=0)\nout = m([1.0, -1.0])\nout.backward()\nout\n")
    page.check("#lab-cluster")
    page.wait_for_function(f"document.getElementById('lab-graph').dataset.runs === '{runs + 3}'")
    assert page.locator("#lab-graph svg g.cluster").count() >= 3  # one box per neuron, one per layer
    page.uncheck("#lab-cluster")
    _settle(page)
    page.click("#lab-example")


def _artefact(page, name: str, full_page: bool = True) -> Path:
    """A screenshot kept after the run: artefacts/browser/<name>.png (CHALKGRAD_ARTEFACTS moves the folder)."""
    folder = Path(os.environ.get("CHALKGRAD_ARTEFACTS", ROOT / "artefacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)
    return folder / f"{name}.png"


def _settle(page) -> None:
    page.wait_for_function("chalkgrad.pending() === 0")


def _set(page, selector: str, value: str) -> None:
    """Set a control and fire its change event (a changed setting resets the model)."""
    if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
        page.select_option(selector, value)
    else:
        page.fill(selector, value)
        page.dispatch_event(selector, "change")
    _settle(page)


def _playground(page, **settings: str) -> None:
    """The playground tab with these settings, full speed, a fresh model at epoch 0."""
    page.click("#tab-playground")
    _set(page, "#pg-speed", "0")
    page.evaluate("for (const b of document.querySelectorAll('#pg-features input')) b.checked = b.value.length === 2;"
                  "chalkgrad.playground.extra = [];")  # inputs x1, x2; no added points
    settings = {"test": "0.3", **settings}
    for name, value in settings.items():
        _set(page, f"#pg-{name}", value)
    page.click("#pg-reset")
    page.wait_for_function("document.getElementById('pg-epoch').textContent === '0' && chalkgrad.pending() === 0")


def _steps(page, n: int) -> None:
    epoch = int(page.text_content("#pg-epoch"))
    for _ in range(n):
        page.click("#pg-step")
    page.wait_for_function(f"document.getElementById('pg-epoch').textContent === '{epoch + n}'")
    _settle(page)


def _train_until(page, dataset: str, accuracy: float) -> dict:
    _playground(page, dataset=dataset)
    grids = page.evaluate("chalkgrad.playground.gridUpdates")
    start = time.perf_counter()
    page.click("#pg-train")
    page.wait_for_function(f"Number(document.getElementById('pg-accuracy').dataset.value) >= {accuracy}",
                           timeout=TRAIN_TIMEOUT_MS)
    seconds = time.perf_counter() - start
    page.click("#pg-pause")
    _settle(page)  # the pause is answered: the page shows the last epoch
    state = {"epoch": int(page.text_content("#pg-epoch")), "seconds": seconds,
             "grids": page.evaluate("chalkgrad.playground.gridUpdates") - grids,
             "curve": page.evaluate("chalkgrad.playground.losses.length")}
    print(f"{dataset}: {accuracy:.0%} training accuracy after {state['epoch']} epochs, {seconds:.1f} s, "
          f"heatmap redrawn {state['grids']} times")
    return state


def test_page_playground_reaches_100_percent_on_xor(browser):
    state = _train_until(browser["page"], "xor", 1.0)
    assert state["epoch"] > 0 and state["curve"] == state["epoch"]
    assert state["grids"] >= 2  # redrawn while training, not only at the end


def test_page_three_classes_and_regression(browser):
    page = browser["page"]
    state = _train_until(page, "blobs3", 0.95)
    assert page.input_value("#pg-loss") == "cross_entropy"
    assert page.evaluate("chalkgrad.playground.task") == "multiclass" and state["epoch"] > 0
    assert page.locator("#pg-network canvas.neuron").count() == 8 + 8 + 3  # three output units
    assert "class 2" in page.text_content("#pg-legend")
    _artefact(page, "playground_three_classes")
    _playground(page, dataset="sine")
    assert page.input_value("#pg-loss") == "squared_error"
    assert page.evaluate("chalkgrad.playground.config.features") == "x1"  # 1-D data: x2 is always 0
    _steps(page, 20)
    losses = page.evaluate("chalkgrad.playground.losses")
    assert len(losses) == 20 and losses[-1] < losses[0]
    assert len(page.evaluate("chalkgrad.playground.grid")) == bridge.CURVE  # the prediction as a curve
    assert page.text_content("#pg-accuracy") == "–"
    _artefact(page, "playground_regression")


def test_page_speed_control_sets_the_epoch_rate(browser):
    """Throttled training can never run ahead of the chosen rate; full speed runs more epochs."""
    page = browser["page"]
    rates = {}
    for speed in ("3", "0"):
        _playground(page, dataset="moons")
        _set(page, "#pg-speed", speed)
        start = time.perf_counter()
        page.click("#pg-train")
        page.wait_for_timeout(2500)
        page.click("#pg-pause")
        _settle(page)
        seconds = time.perf_counter() - start
        rates[speed] = (int(page.text_content("#pg-epoch")), seconds)
    slow, fast = rates["3"], rates["0"]
    print(f"3 epochs/s: {slow[0]} epochs in {slow[1]:.1f} s; full speed: {fast[0]} epochs in {fast[1]:.1f} s")
    assert 1 <= slow[0] <= 3 * slow[1] + 1 and fast[0] > slow[0]
    assert "speed=0" in page.url


def test_page_split_plots_both_losses_with_a_legend(browser):
    page = browser["page"]
    _playground(page, dataset="moons", test="0.3")
    _steps(page, 4)
    pg = page.evaluate("chalkgrad.playground")
    assert len(pg["losses"]) == len(pg["testLosses"]) == 4 and len(pg["test"]) == 60
    assert page.text_content("#pg-test-loss") != "–" and "test point" in page.text_content("#pg-legend")
    dashed_blue = ("(() => { const c = document.getElementById('pg-loss-curve'); const d = c.getContext('2d')"
                   ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4)"
                   " if (Math.abs(d[i] - 31) < 30 && Math.abs(d[i + 1] - 95) < 30"
                   " && Math.abs(d[i + 2] - 160) < 30) n++;"
                   " return n; })()")
    assert page.evaluate(dashed_blue) > 20  # the test-loss curve is drawn
    _artefact(page, "playground_split")
    _set(page, "#pg-test", "0")
    _steps(page, 2)
    assert page.evaluate("chalkgrad.playground.testLosses.length") == 0
    assert "test point" not in page.text_content("#pg-legend") and page.text_content("#pg-test-loss") == "–"


def test_page_network_drawing_has_a_heatmap_per_unit_and_weights_on_hover(browser):
    page = browser["page"]
    _playground(page, dataset="circles", hidden="3, 2")
    page.click("#pg-feat-x1sq")
    _settle(page)
    _steps(page, 3)
    assert page.locator("#pg-network canvas.node").count() == 3 + 3 + 2 + 1  # inputs x1, x2, x1²; 3; 2; output
    assert page.locator("#pg-network canvas.neuron").count() == 3 + 2 + 1
    assert page.locator("#pg-network line.weight").count() == 3 * 3 + 3 * 2 + 2
    title = page.text_content("#pg-weight-1-0-2 title")  # neuron 0 of layer 1, its weight on x1²
    name, value = title.split(" = ")
    weights = page.evaluate("chalkgrad.playground.weights")
    assert name == "layers.0.neurons.0.w[2]" and float(value) == pytest.approx(weights[0][0]["w"][2], abs=1e-4)
    colours = {page.get_attribute(f"#pg-weight-1-{k}", "stroke") for k in ("0-0", "0-1", "0-2", "1-0", "1-1")}
    assert colours <= {"#1f5fa0", "#e0700a"}
    blank = page.evaluate("(() => { const d = document.getElementById('pg-node-1-0').getContext('2d')"
                          ".getImageData(0, 0, 40, 40).data; return new Set(d).size; })()")
    assert blank > 10  # painted, not empty
    page.hover("#pg-weight-1-0-2", force=True)  # lines cross: hover this one wherever another lies on top
    _artefact(page, "playground_network")


def test_page_clicking_a_neuron_shows_its_graph_and_formula_live(browser):
    page = browser["page"]
    _playground(page, dataset="moons", hidden="3")
    _steps(page, 5)
    x, y = page.evaluate("chalkgrad.toPixel(chalkgrad.playground.points[4])")
    page.click("#pg-heatmap", position={"x": x, "y": y})
    page.wait_for_function("document.getElementById('pg-sample-graph').dataset.index === '4'")
    page.click("#pg-node-1-2")
    page.wait_for_function("document.getElementById('pg-neuron').dataset.neuron === '1,2'")
    formula = page.text_content("#pg-neuron-formula").splitlines()
    config = page.evaluate("chalkgrad.playground.config")
    pg = playground.Playground(**config)
    for _ in range(5):
        pg.step()
    assert formula == explain.neuron_view(pg, 1, 2, 4)["formula"]  # the engine's own numbers, as CPython computes them
    assert formula[0].startswith("z = ") and formula[1].startswith("out = tanh(")
    assert "∂L/∂z = ∂L/∂out · tanh′(z)" in formula[3]
    assert "grad" in page.text_content("#pg-neuron-graph svg")
    _artefact(page, "playground_neuron")
    page.click("#pg-train")  # live: the formula follows the training
    page.wait_for_function("Number(document.getElementById('pg-neuron').dataset.epoch) > 10")
    page.click("#pg-pause")
    _settle(page)
    assert page.text_content("#pg-neuron-formula").splitlines()[0] != formula[0]


def test_page_timeline_restores_an_earlier_epoch_exactly_and_reset_repeats_the_run(browser):
    page = browser["page"]
    _playground(page, dataset="spirals", hidden="6")
    x, y = page.evaluate("chalkgrad.toPixel(chalkgrad.playground.points[9])")
    page.click("#pg-heatmap", position={"x": x, "y": y})
    page.click("#pg-node-1-1")
    page.wait_for_function("document.getElementById('pg-neuron').dataset.neuron === '1,1'")
    _steps(page, 3)
    snapshot = "[chalkgrad.playground.grid, chalkgrad.playground.nodes, chalkgrad.playground.weights]"
    at3 = page.evaluate(snapshot)
    formula3 = page.text_content("#pg-neuron-formula")
    sample3 = page.inner_html("#pg-sample-graph")
    _steps(page, 5)
    assert page.evaluate(snapshot) != at3
    page.eval_on_selector("#pg-timeline", "e => { e.value = 3; e.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.getElementById('pg-timeline-label').dataset.shown === '3'")
    page.wait_for_function("document.getElementById('pg-neuron').dataset.epoch === '3'")
    _settle(page)
    assert page.evaluate(snapshot) == at3  # boundary, every node's heatmap and every weight, exactly
    assert page.text_content("#pg-neuron-formula") == formula3 and page.inner_html("#pg-sample-graph") == sample3
    assert page.text_content("#pg-epoch") == "8" and "showing epoch 3 of 8" in page.text_content("#pg-timeline-label")
    assert "MB budget" in page.text_content("#pg-timeline-label")
    _artefact(page, "playground_timeline")
    page.click("#pg-reset")  # the same seed: the same run
    page.wait_for_function("document.getElementById('pg-epoch').textContent === '0'")
    _steps(page, 3)
    assert page.evaluate(snapshot) == at3


def test_page_zero_loss_sample_says_why(browser):
    page = browser["page"]
    _train_until(page, "moons", 1.0)
    scores = page.evaluate("chalkgrad.ask('scores')")
    labels = page.evaluate("chalkgrad.playground.labels")
    k = max(range(len(scores)), key=lambda i: scores[i] * labels[i])
    x, y = page.evaluate(f"chalkgrad.toPixel(chalkgrad.playground.points[{k}])")
    page.click("#pg-heatmap", position={"x": x, "y": y})
    page.wait_for_function(f"document.getElementById('pg-sample-graph').dataset.index === '{k}'")
    assert page.is_visible("#pg-sample-why") and "not a bug" in page.text_content("#pg-sample-why")
    assert page.locator("#pg-sample-graph svg g.cluster").count() >= 3  # a box per neuron
    _artefact(page, "playground_zero_loss")


def test_page_link_reproduces_the_configuration(browser):
    page = browser["page"]
    _playground(page, dataset="xor", hidden="4, 3", activation="relu", lr="0.1", seed="3")
    page.click("#pg-feat-x1x2")
    _settle(page)
    _set(page, "#pg-click", "1")
    page.click("#pg-heatmap", position={"x": 200, "y": 200})  # adds a blue point
    page.wait_for_function("chalkgrad.playground.config.points.length === 1")
    _settle(page)
    _set(page, "#pg-click", "inspect")
    page.click("#pg-link")
    link = page.input_value("#pg-link-text")
    config = page.evaluate("chalkgrad.playground.config")
    points = page.evaluate("chalkgrad.playground.points")
    assert len(points) == 201 and config["features"] == "x1,x2,x1x2"
    other = page.context.new_page()
    try:
        other.goto(link)
        other.wait_for_function("document.getElementById('status').dataset.ready !== 'false'", timeout=LOAD_TIMEOUT_MS)
        _settle(other)
        assert other.evaluate("chalkgrad.playground.config") == config
        assert other.evaluate("chalkgrad.playground.points") == points
        assert other.is_visible("#pg-heatmap")  # the link opens the playground tab
        _artefact(other, "playground_from_link")
    finally:
        other.close()


def test_page_pasted_csv_becomes_the_data(browser):
    page = browser["page"]
    page.click("#tab-playground")
    page.click("#pg-csv-box summary")
    rows = [f"{0.3 * (k % 5) - 0.6}, {0.2 * (k // 5) - 0.5}, {k % 3}" for k in range(30)]
    page.fill("#pg-csv", "# x1, x2, class\n" + "\n".join(rows))
    page.click("#pg-csv-load")
    page.wait_for_function("chalkgrad.playground.config.dataset === 'custom'")
    _settle(page)
    assert page.evaluate("chalkgrad.playground.points.length") == 30
    assert page.evaluate("chalkgrad.playground.task") == "multiclass"
    assert page.input_value("#pg-loss") == "cross_entropy"
    modes = page.eval_on_selector_all("#pg-click option", "os => os.map(o => o.value)")
    assert modes == ["inspect", "0", "1", "2"]
    _set(page, "#pg-dataset", "moons")


def test_page_exported_script_runs_in_cpython_and_reaches_the_pages_accuracy(browser, tmp_path):
    page = browser["page"]
    _train_until(page, "moons", 0.9)
    accuracy = float(page.get_attribute("#pg-accuracy", "data-value"))
    epoch = int(page.text_content("#pg-epoch"))
    with page.expect_download() as download:
        page.click("#pg-export")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "moons_playground.py" and f"epochs={epoch}" in path.read_text()
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    reached = float(re.search(r"training accuracy ([0-9.]+)", out.stdout).group(1))
    print(f"page: {accuracy:.4f} after {epoch} epochs; exported script with nn.fit: {reached:.4f}")
    assert reached >= accuracy - 1e-4


def test_page_step_button_trains_one_epoch(browser):
    page = browser["page"]
    epoch = int(page.text_content("#pg-epoch"))
    page.click("#pg-step")
    page.wait_for_function(f"document.getElementById('pg-epoch').textContent === '{epoch + 1}'")
    page.click("#pg-reset")
    page.wait_for_function("document.getElementById('pg-epoch').textContent === '0'")


def test_page_clicking_a_point_draws_its_graph(browser):
    page = browser["page"]
    x, y = page.evaluate("chalkgrad.toPixel(chalkgrad.playground.points[7])")
    page.click("#pg-heatmap", position={"x": x, "y": y})
    page.wait_for_function("document.getElementById('pg-sample-graph').dataset.index === '7'")
    text = page.text_content("#pg-sample-graph svg")
    assert "loss" in text and "grad" in text
    assert _svg_nodes(page, "#pg-sample-graph") > 20
    assert page.text_content("#pg-sample-info").startswith("sample 7")


def test_page_bad_setting_shows_its_message(browser):
    page = browser["page"]
    page.fill("#pg-hidden", "8, x")
    page.dispatch_event("#pg-hidden", "change")
    page.wait_for_selector("#pg-error:not([hidden])")
    assert "hidden layers must be widths" in page.text_content("#pg-error")
    page.fill("#pg-hidden", "8, 8")
    page.dispatch_event("#pg-hidden", "change")
    page.wait_for_selector("#pg-error", state="hidden")


def test_page_small_and_short_screens(browser):
    page = browser["page"]
    try:
        page.set_viewport_size({"width": 420, "height": 800})
        for tab in ("lab", "playground"):
            page.click(f"#tab-{tab}")
            page.wait_for_timeout(200)
            assert page.evaluate("document.documentElement.scrollWidth") <= 420, tab
            _artefact(page, f"small_screen_{tab}")
        page.click("#tab-lab")
        page.fill("#lab-code", "x = (1 +\n")
        page.click("#lab-run")
        page.wait_for_selector("#lab-error:not([hidden])")
        assert page.eval_on_selector("#lab-error", "e => e.getBoundingClientRect().width") > 300  # not a word a line
        page.set_viewport_size({"width": 1024, "height": 700})
        page.click("#tab-playground")
        page.evaluate("window.scrollTo(0, 600)")
        page.wait_for_timeout(200)
        for selector in ("header h1", "#tab-lab", "#tab-playground", "#status"):
            box = page.eval_on_selector(selector, "e => e.getBoundingClientRect().toJSON()")
            assert 0 <= box["top"] and box["bottom"] <= 700 and page.is_visible(selector), selector
        _artefact(page, "short_screen_playground", full_page=False)  # what the screen shows, scrolled
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")


def test_page_step_time_of_a_2_16_16_1_mlp_on_100_points(browser, record_property):
    """Measured, not asserted (no wall-clock asserts): the page's step beside CPython's, for docs/browser.md."""
    from chalkweb import bridge

    page = browser["page"]
    _playground(page, dataset="moons", test="0.5", hidden="16, 16", activation="relu")  # 100 training points
    result = {}
    for compiled in (True, False):
        page.set_checked("#pg-compiled", compiled)
        page.wait_for_function("chalkgrad.pending() === 0")
        config = page.evaluate("chalkgrad.playground.config")
        assert config["hidden"] == "16, 16" and config["activation"] == "relu" and config["batch_size"] == 0
        assert config["compiled"] is compiled
        bench = page.evaluate("chalkgrad.ask('bench', {steps: 3})")
        assert bench["compiled"] is compiled and bench["seconds_per_step"] > 0
        bridge.pg_reset(json.dumps(config))
        native = json.loads(bridge.pg_bench(3))
        result["compiled" if compiled else "eager"] = (bench["seconds_per_step"], native["seconds_per_step"])
    bridge.pg_reset("{}")  # the page's defaults: spirals, a 2-8-8-1 tanh network
    bridge.pg_step()
    start = time.perf_counter()
    frames = [json.loads(bridge.pg_frame('{"since": 0}')) for _ in range(5)]
    frame_s = (time.perf_counter() - start) / len(frames)
    assert all([len(layer) for layer in f["nodes"]] == [2, 8, 8, 1] and f["epoch"] == 1 for f in frames)
    record_property("browser_step_seconds", result)
    for mode, (page_s, native_s) in result.items():
        print(f"one full-batch step of a 2-16-16-1 MLP on 100 points, {mode}: Chromium {page_s * 1e3:.0f} ms, "
              f"CPython {native_s * 1e3:.0f} ms ({page_s / native_s:.1f}x)")
    print(f"one frame of the default 2-8-8-1 network (every node's heatmap, the weights), CPython: "
          f"{frame_s * 1e3:.0f} ms")


def test_page_loaded_nothing_from_any_other_host(browser):
    assert browser["outside"] == []
    local = " ".join(browser["local"])
    for needed in ("pyodide.asm.wasm", "python_stdlib.zip", "viz-global.js", "chalkgrad.zip", "graphviz.whl"):
        assert needed in local
    assert browser["errors"] == []
