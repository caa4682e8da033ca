"""Progress displays: fit's (a tqdm bar in a terminal, a plain line per tenth of the run elsewhere),
and the command line's one line per stage after training."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

__all__: list[str] = []  # used by fit; not part of nn's namespace


class Progress:
    """A tqdm bar in an interactive terminal; plain lines (about ten) in logs, CI and notebooks."""

    def __init__(self, epochs: int, progress: bool | str | None, caller: str = "fit") -> None:
        self.epochs = epochs
        self.bar = None
        stream = sys.stderr
        if progress is True:
            interactive = hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")
            progress = "bar" if interactive else "plain"
        if progress not in (False, None, "bar", "plain"):
            raise ValueError(f"{caller}: progress must be True, False, 'bar' or 'plain', got {progress!r}")
        self.mode = progress or None
        self.every = max(1, epochs // 10)
        if self.mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=epochs, unit="epoch", file=stream, dynamic_ncols=True, leave=True)

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        if self.mode is None:
            return
        shown = {k: v for k, v in logs.items() if k not in ("epoch", "time")}
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()}, refresh=False)
            self.bar.update(1)
        elif self.mode == "plain" and (epoch % self.every == 0 or epoch == self.epochs or epoch == 1):
            parts = "  ".join(f"{k} {v:.4g}" for k, v in shown.items())
            print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  {parts}  ({logs['time']:.2f}s)",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def stage(what: str) -> Iterator[list[str]]:
    """One stdout line per step after training: its name as it starts (a long step is never silence),
    its time when it ends, e.g. ``scoring the 60000 training samples ... 4.1 s``.  A step that did not
    do its work says so instead of its time: ``with stage(...) as outcome: outcome.append("skipped")``."""
    print(f"{what} ...", end="", flush=True)
    start = time.perf_counter()
    outcome: list[str] = []
    try:
        yield outcome
    except BaseException:
        print(" failed", flush=True)
        raise
    print(f" {' '.join(outcome) or f'{time.perf_counter() - start:.1f} s'}", flush=True)
