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

from . import lab
from .playground import Playground

_state: dict[str, Any] = {}


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
    return _json({"python": sys.version.split()[0], "example": lab.EXAMPLE})


def lab_run(source: str) -> str:
    return _json(lab.run(source))


@_errors_as_json
def pg_reset(config: str) -> str:
    """A new playground from the page's settings; on bad settings the message names the control."""
    _state.pop("pg", None)
    pg = _state["pg"] = Playground(**json.loads(config))
    return _json({"points": pg.X, "labels": pg.y, "bounds": pg.bounds(), "grid": pg_grid_list(),
                  "n_params": len(pg.params), **pg.status()})


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
    return _json(_pg().step())


@_errors_as_json
def pg_status() -> str:
    return _json(_pg().status())


GRID = 40


def pg_grid_list() -> list[float]:
    pg = _pg()
    return pg.grid(GRID, pg.bounds())


@_errors_as_json
def pg_grid() -> str:
    return _json(pg_grid_list())


@_errors_as_json
def pg_scores() -> str:
    """The model's score for every training point (the page's automation picks points by it)."""
    pg = _pg()
    return _json(pg.scores(pg.X))


@_errors_as_json
def pg_graph(index: int) -> str:
    return _json(_pg().sample_graph(int(index)))


@_errors_as_json
def pg_bench(steps: int) -> str:
    """Seconds per training epoch of the current model (one step at full batch: forward, backward,
    update; without the accuracy the page also computes), timed in Python for docs/browser.md."""
    pg = _pg()
    pg.train_epoch()  # the first epoch traces the per-sample losses
    t = time.perf_counter()
    for _ in range(int(steps)):
        pg.train_epoch()
    return _json({"seconds_per_step": (time.perf_counter() - t) / int(steps), "compiled": pg.compiled})
