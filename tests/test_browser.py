"""chalkgrad in the browser (docs/browser.md): the site's Python in CPython, nn without numpy, and the
built page driven in headless Chromium (Playwright, the system's /usr/bin/chromium) with every request
that is not to the local test server blocked.

The page tests build web/dist/ when it is missing or stale (``python web/build.py --if-stale``: npm ci
and a pip download, both pinned) and skip, saying why, where Node.js/npm, Chromium or playwright is
missing.  One browser page is shared by the module: Pyodide starts once.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import autograd
from autograd.viz import number_text

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
CHROMIUM = os.environ.get("CHALKGRAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOAD_TIMEOUT_MS = 180_000  # Pyodide's first start on a loaded 2-core machine: 10-30 s seen
TRAIN_TIMEOUT_MS = 120_000

sys.path.insert(0, str(WEB / "py"))
from chalkweb import lab, playground  # noqa: E402


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


def test_playground_compiled_gradients_equal_eager_ones():
    grads = []
    for compiled in (True, False):
        pg = playground.Playground("moons", hidden="5, 4", activation="relu", l2=0.01, batch_size=7,
                                   loss="binary_cross_entropy", compiled=compiled)
        loss = pg._gradients(list(range(7)))
        grads.append((loss, [p.grad for p in pg.params]))
    (l1, g1), (l2, g2) = grads
    assert l1 == pytest.approx(l2, rel=1e-12)
    assert g1 == pytest.approx(g2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("dataset", sorted(playground.toydata.DATASETS))
def test_playground_fits_each_dataset_with_its_defaults(dataset):
    pg = playground.Playground(dataset)
    assert len(pg.X) == 100 and set(pg.y) == {-1.0, 1.0}
    first = pg.step()["loss"]
    for _ in range(150):
        status = pg.step()
        if status["accuracy"] == 1.0:
            break
    assert status["accuracy"] >= 0.95 and status["loss"] < first


def test_playground_sample_graph_holds_that_samples_gradients():
    pg = playground.Playground("xor", hidden="3")
    pg.step()
    before = [p.grad for p in pg.params]
    g = pg.sample_graph(5)
    assert [p.grad for p in pg.params] == before  # drawing leaves the training gradients alone
    for p in pg.params:
        p.grad = 0.0
    loss = pg.sample_loss(5)
    loss.backward()
    assert g["nodes"] == len(autograd.topological_order(loss)) and g["loss"] == loss.data
    assert all(f"grad {number_text(p.grad)}" in g["dot"] for p in pg.params) and "loss" in g["dot"]


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
                      "playground_epoch": pg.epoch}))
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
def _skip_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright (PyPI) is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if build.is_stale() and not (shutil.which("npm") and shutil.which("node")):
        return "web/dist/ needs building and Node.js/npm is missing (Debian: apt-get install nodejs npm)"
    return None


@pytest.fixture(scope="module")
def site():
    """web/dist/ built if missing or stale, served from a local thread; yields (url, blocked requests)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if build.is_stale():
        subprocess.run([sys.executable, str(WEB / "build.py"), "--if-stale"], check=True, timeout=600)
    handler = functools.partial(build.Handler, directory=str(build.DIST))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    local: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(service_workers="block", viewport={"width": 1280, "height": 900})

        def route(r):
            if r.request.url.startswith(site):
                local.append(r.request.url)
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(60_000)  # a loaded 2-core machine: each wait below usually takes < 1 s
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(site + "#lab")
        page.wait_for_function("document.getElementById('status').dataset.ready !== 'false'",
                               timeout=LOAD_TIMEOUT_MS)
        assert page.get_attribute("#status", "data-ready") == "true", page.text_content("#status")
        print(f"\nPyodide page ready in {time.perf_counter() - start:.1f} s")
        yield {"page": page, "outside": outside, "local": local, "errors": errors, "url": site}
        chromium.close()


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


def _train_until(page, dataset: str, accuracy: float) -> dict:
    page.click("#tab-playground")
    page.select_option("#pg-dataset", dataset)  # a changed setting resets the model
    page.wait_for_function(f"chalkgrad.playground.config.dataset === '{dataset}' && "
                           "document.getElementById('pg-epoch').textContent === '0'")
    grids = page.evaluate("chalkgrad.playground.gridUpdates")
    start = time.perf_counter()
    page.click("#pg-train")
    page.wait_for_function(f"Number(document.getElementById('pg-accuracy').dataset.value) >= {accuracy}",
                           timeout=TRAIN_TIMEOUT_MS)
    seconds = time.perf_counter() - start
    page.click("#pg-pause")
    page.wait_for_function("chalkgrad.pending() === 0")  # the pause is answered: the page shows the last epoch
    state = {"epoch": int(page.text_content("#pg-epoch")), "seconds": seconds,
             "grids": page.evaluate("chalkgrad.playground.gridUpdates") - grids,
             "curve": page.evaluate("chalkgrad.playground.losses.length")}
    print(f"{dataset}: {accuracy:.0%} training accuracy after {state['epoch']} epochs, {seconds:.1f} s, "
          f"heatmap redrawn {state['grids']} times")
    return state


def test_page_playground_reaches_100_percent_on_xor(browser):
    state = _train_until(browser["page"], "xor", 1.0)
    assert state["epoch"] > 0 and state["curve"] >= state["epoch"] - 1
    assert state["grids"] >= state["epoch"] / 5  # a new decision boundary at least every 5 epochs


def test_page_playground_reaches_95_percent_on_moons(browser):
    state = _train_until(browser["page"], "moons", 0.95)
    assert state["epoch"] > 0


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
    assert page.text_content("#pg-sample-info").startswith("sample 7:")


def test_page_bad_setting_shows_its_message(browser):
    page = browser["page"]
    page.fill("#pg-hidden", "8, x")
    page.dispatch_event("#pg-hidden", "change")
    page.wait_for_selector("#pg-error:not([hidden])")
    assert "hidden layers must be widths" in page.text_content("#pg-error")
    page.fill("#pg-hidden", "8, 8")
    page.dispatch_event("#pg-hidden", "change")
    page.wait_for_selector("#pg-error", state="hidden")


def test_page_step_time_of_a_2_16_16_1_mlp_on_100_points(browser, record_property):
    """Measured, not asserted (no wall-clock asserts): the page's step beside CPython's, for docs/browser.md."""
    from chalkweb import bridge

    page = browser["page"]
    page.fill("#pg-hidden", "16, 16")
    page.dispatch_event("#pg-hidden", "change")
    page.select_option("#pg-activation", "relu")
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
    record_property("browser_step_seconds", result)
    for mode, (page_s, native_s) in result.items():
        print(f"one full-batch step of a 2-16-16-1 MLP on 100 points, {mode}: Chromium {page_s * 1e3:.0f} ms, "
              f"CPython {native_s * 1e3:.0f} ms ({page_s / native_s:.1f}x)")


def test_page_loaded_nothing_from_any_other_host(browser):
    assert browser["outside"] == []
    local = " ".join(browser["local"])
    for needed in ("pyodide.asm.wasm", "python_stdlib.zip", "viz-global.js", "chalkgrad.zip", "graphviz.whl"):
        assert needed in local
    assert browser["errors"] == []
