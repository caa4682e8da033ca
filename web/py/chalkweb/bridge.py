"""What the page's web worker calls: every function takes plain values and returns JSON text."""

from __future__ import annotations

import functools
import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import explain, export, lab
from .playground import DATASETS, FEATURES, LOSSES, TASKS, Playground
from .recording import BUDGET_BYTES

_state: dict[str, Any] = {}

GRID = 40         # the decision boundary's heatmap: GRID x GRID model outputs
NODE_GRID = 20    # each node's small heatmap in the network drawing
CURVE = 120       # regression: the prediction at this many values of x1


def _json(x: Any) -> str:
    """JSON text for JavaScript's JSON.parse, which has no NaN or Infinity: those become null."""
    return json.dumps(_finite(x))


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def _errors_as_json(fn: Callable[..., str]) -> Callable[..., str]:
    """An exception becomes {"__error__": "Type: message"}: the page shows that line, not a traceback."""
    @functools.wraps(fn)
    def call(*args: Any) -> str:
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - every error is reported to the page
            return json.dumps({"__error__": "".join(traceback.format_exception_only(type(e), e)).strip()})

    return call


def hello() -> str:
    return _json({"python": sys.version.split()[0], "example": lab.EXAMPLE, "max_nodes": lab.MAX_DRAW_NODES,
                  "tasks": {name: TASKS.get(name, "binary") for name in DATASETS},
                  "losses": LOSSES, "features": {k: v[0] for k, v in FEATURES.items()}, "budget": BUDGET_BYTES})


def lab_run(source: str, max_nodes: int | None = None, cluster: bool = False) -> str:
    return _json(lab.run(source, max_nodes=lab.MAX_DRAW_NODES if max_nodes is None else int(max_nodes),
                         cluster=bool(cluster)))


@_errors_as_json
def pg_reset(config: str) -> str:
    """A new playground from the page's settings; on bad settings the message names the control."""
    _state.pop("pg", None)
    pg = _state["pg"] = Playground(**json.loads(config))
    return _json({"points": pg.X, "labels": pg.y, "test": pg.test, "bounds": pg.bounds(), "box": pg.input_box(),
                  "task": pg.task, "classes": pg.classes, "loss": pg.loss_name,
                  "features": [FEATURES[f][0] for f in pg.features], "n_params": len(pg.params),
                  "sizes": [len(pg.features), *pg.widths, pg.classes]})


def _pg() -> Playground:
    if "pg" not in _state:
        raise RuntimeError("the playground has no model yet: press Reset")
    return _state["pg"]


@_errors_as_json
def pg_set_lr(lr: float) -> str:
    _pg().opt.lr = float(lr)
    return _json(True)


@_errors_as_json
def pg_step() -> str:
    """One epoch; only the epoch is returned (the page asks for a frame to show it)."""
    pg = _pg()
    pg.train_epoch()
    return _json(pg.epoch)


@_errors_as_json
def pg_frame(request: str) -> str:
    """Everything the page draws for one epoch (``view``: a recorded epoch, None = the latest):
    status, heatmap, every node's heatmap, the weights, the losses since ``since``, and the graphs of
    the selected sample and neuron when ``graphs`` is true."""
    pg = _pg()
    r = json.loads(request)
    since = int(r.get("since", 0))
    with pg.at_epoch(r.get("view")) as shown:
        box = pg.input_box()
        frame: dict[str, Any] = {
            "epoch": pg.epoch, "shown": shown, "train_accuracy": pg.accuracy(), "test_accuracy": pg.accuracy(pg.test),
            "grid": pg.curve(CURVE, box) if pg.task == "regression" else pg.grid(GRID, box),
            "nodes": pg.node_grids(NODE_GRID, box), "weights": pg.weights()}
    frame.update({"since": since, "losses": pg.losses[since:], "test_losses": pg.test_losses[since:],
                  "recording": pg.recording.summary()})
    if r.get("graphs"):
        if r.get("sample") is not None:
            frame["sample"] = explain.sample_graph(pg, int(r["sample"]), shown)
        if r.get("neuron"):
            layer, j = r["neuron"]
            frame["neuron"] = explain.neuron_view(pg, int(layer), int(j), int(r.get("sample") or 0), shown)
    return _json(frame)


@_errors_as_json
def pg_scores() -> str:
    """The model's output for every point (the page's automation picks points by it)."""
    pg = _pg()
    return _json(pg.scores(pg.X))


@_errors_as_json
def pg_export(config: str, url: str) -> str:
    return _json(export.script(_pg(), json.loads(config), url))


@_errors_as_json
def pg_bench(steps: int) -> str:
    """Seconds per training epoch of the current model (one step at full batch: forward, backward,
    update, the test loss and the recording), timed in Python for docs/browser.md."""
    pg = _pg()
    pg.train_epoch()  # the first epoch traces the per-sample losses
    t = time.perf_counter()
    for _ in range(int(steps)):
        pg.train_epoch()
    return _json({"seconds_per_step": (time.perf_counter() - t) / int(steps), "compiled": pg.compiled})
