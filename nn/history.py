"""A training run's record (History) and the early-stopping rule fit applies to it."""

from __future__ import annotations

import json
import numbers
import os
from typing import Any

from . import validate

__all__ = ["History", "EarlyStopping"]


# --- History ----------------------------------------------------------------------------------------
class History:
    """Per-epoch records of a training run: ``history["loss"]``, ``history.val_loss``, ``.lr``, ``.time``.

    Keys: ``epoch`` (1, 2, ...), ``loss`` (mean objective over the epoch's batches, penalty
    included), ``lr`` (learning rate at the epoch's last step), ``time`` (seconds), each metric
    (``accuracy``, measured on the same forward passes as the loss) and, with validation data,
    ``val_loss`` and ``val_<metric>`` (measured after the epoch).
    """

    def __init__(self, records: dict[str, list] | None = None, **info: Any) -> None:
        self.records: dict[str, list] = {k: list(v) for k, v in (records or {}).items()}
        self.stop_reason: str = info.get("stop_reason", "")
        self.best_epoch: int | None = info.get("best_epoch")
        self.restored_best: bool = bool(info.get("restored_best", False))

    def append(self, logs: dict[str, float]) -> None:
        """Add one epoch's numbers."""
        for key, value in logs.items():
            self.records.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list:
        try:
            return self.records[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.records)}") from None

    def __getattr__(self, key: str) -> list:
        if key.startswith("_") or key in ("records",):
            raise AttributeError(key)
        try:
            return self.records[key]
        except KeyError:
            raise AttributeError(f"History has no {key!r}; it has {', '.join(self.records)}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records.get("epoch", []))

    def keys(self) -> list[str]:
        """The recorded series' names."""
        return list(self.records)

    def last(self) -> dict[str, float]:
        """The last epoch's numbers."""
        return {k: v[-1] for k, v in self.records.items() if v}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"records": {...}, "stop_reason": ..., "best_epoch": ...}``."""
        return {
            "records": self.records,
            "stop_reason": self.stop_reason,
            "best_epoch": self.best_epoch,
            "restored_best": self.restored_best,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`; anything else raises ``ValueError`` naming the first bad entry."""
        if not isinstance(data, dict) or not isinstance(data.get("records"), dict):
            raise ValueError("History.from_dict: expected a dict with a 'records' dict")
        for key, series in data["records"].items():
            if not isinstance(key, str) or not isinstance(series, list):
                raise ValueError(f"History.from_dict: records[{key!r:.60}] must be a list of numbers, "
                                 f"got {type(series).__name__}")
            for x in series:
                if x is not None and (isinstance(x, bool) or not isinstance(x, numbers.Real)):
                    raise ValueError(f"History.from_dict: records[{key!r:.60}] must hold numbers, got "
                                     f"{type(x).__name__} {x!r:.60}")
        info = {k: v for k, v in data.items() if k != "records"}
        for key, kinds in (("stop_reason", (str,)), ("best_epoch", (int, type(None))), ("restored_best", (bool,))):
            if key in info and (not isinstance(info[key], kinds) or isinstance(info[key], bool) and bool not in kinds):
                raise ValueError(f"History.from_dict: {key!r} has the wrong type: {info[key]!r:.60}")
        return cls(data["records"], **info)

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        """Read a History written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        where = f"History.load: {os.fspath(path)!r}"
        try:
            data = json.loads(text)
        except RecursionError:  # '[' * 10**5: json's parser recurses once per level
            raise ValueError(f"{where} is not a saved History (JSON nested too deeply)") from None
        except ValueError as e:
            raise ValueError(f"{where} is not valid JSON ({e})") from None
        try:
            return cls.from_dict(data)
        except ValueError as e:
            raise ValueError(f"{where}: {str(e).removeprefix('History.from_dict: ')}") from None

    def plot(self, **kwargs: Any) -> Any:
        """Loss and metric curves as a matplotlib figure (see :func:`nn.plot.loss_curves`)."""
        from .plot import loss_curves

        return loss_curves(self, **kwargs)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items() if k not in ("epoch", "time"))
        return f"History({len(self)} epochs{', ' + last if last else ''})"


class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs
    (seed 004), then (``restore_best``) put back the parameters of the best epoch."""

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True) -> None:
        self.patience = validate.integer("EarlyStopping", "patience", patience, minimum=1)
        self.min_delta = validate.non_negative("EarlyStopping", "min_delta", min_delta)
        self.restore_best = bool(restore_best)

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, restore_best={self.restore_best})"
