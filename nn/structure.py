"""A model's structure: its modules, a fingerprint of them, and what fit has already learned from it.

fit asks two things of a model's structure before training: does it take samples of this width and
how many outputs does it give (one eager forward pass of sample 0, :func:`nn.checks.model_output`),
and does the loss take that output with this target.  Compiled training asks a third: is the traced
graph still this model's.  All three are answered again only when the structure changed: the
fingerprint is every module's attributes by identity (list items included, so
``neuron.w[0] = Value(1.0)`` is a change) and is cheap next to a forward pass.

>>> import nn
>>> from autograd import Value
>>> model = nn.MLP(2, [3, 1], seed=0)
>>> a = fingerprint(modules_of(model))
>>> a == fingerprint(modules_of(model))
True
>>> model.layers[0].neurons[0].w[0] = Value(1.0)
>>> a == fingerprint(modules_of(model))
False
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

__all__ = ["modules_of", "fingerprint", "modes", "target_key", "weak", "same_loss", "of_nn_layers", "Probed",
           "probed", "remember_probe"]

_NOT_STRUCTURE = ("training", "_masks")  # the mode is compared on its own (modes); Dropout's mask hook is transient


def modules_of(model: Any) -> list:
    """The model's modules, parents first (``[model]`` for a model that is not an ``nn.Module``)."""
    return list(model.modules()) if callable(getattr(model, "modules", None)) else [model]


def fingerprint(modules: list) -> tuple:
    """Every module's attributes by identity, in order: equal fingerprints, the same graph for every input
    (given the same modes).  A list or tuple counts by its items' identities too (``n.w[0] = Value(1.0)``
    replaces a parameter while the list stays the same object).  One flat tuple, built in one loop: fit
    takes it on every call.  TypeError for an object without attributes (``vars``)."""
    out: list = []
    add, extend = out.append, out.extend
    for m in modules:
        add(id(m))
        for k, v in vars(m).items():
            if k in _NOT_STRUCTURE:
                continue
            add(k)
            add(id(v))
            if isinstance(v, (list, tuple)):
                add(len(v))  # before the items: a key (a str) can never be read as one of them
                extend(map(id, v))
    return tuple(out)


def modes(modules: list) -> tuple:
    """Each module's train/eval mode (what the fingerprint leaves out: fit switches it)."""
    return tuple(getattr(m, "training", None) for m in modules)


def target_key(y: Any) -> Any:
    """A target as a hashable key: numbers as they are, rows and arrays as tuples."""
    if isinstance(y, (list, tuple)):
        return tuple(target_key(v) for v in y)
    return y.tolist() if hasattr(y, "tolist") else y


def weak(fn: Any) -> Callable[[], Any]:
    """A reference to a loss that does not keep it (and the model a bound method or closure holds) alive:
    ``weak(fn)()`` is ``fn``, or an equal bound method, or None once it is gone.  Objects that cannot be
    weakly referenced are held."""
    try:
        return weakref.WeakMethod(fn) if inspect.ismethod(fn) else weakref.ref(fn)
    except TypeError:
        return lambda: fn


def same_loss(ref: Callable[[], Any], loss: Any) -> bool:
    """Whether the loss :func:`weak` refers to is ``loss``, or an equal bound method (``model.loss`` is a new
    object at each access)."""
    kept = ref()
    return kept is loss or (kept is not None and inspect.ismethod(loss) and kept == loss)


def of_nn_layers(modules: list) -> bool:
    """Whether every module is one of ``nn.layers``': their outputs, parameters and modes depend only on
    the attributes the fingerprint covers, so what fit learned about them can be remembered."""
    return all(type(m).__module__ == "nn.layers" for m in modules)


class Probed:
    """What one eager probe of a model structure established: the sample width it takes, its number of
    outputs, and the last (loss, first target) that ran on its output."""

    def __init__(self, structure: tuple, width: int, n_out: int) -> None:
        self.structure, self.width, self.n_out = structure, width, n_out
        self._last: tuple[Callable[[], Any], str] | None = None  # (the loss, weakly: it may hold the model; target)
        self.params: list | None = None  # model.parameters(): the same list while the structure is the same

    def took(self, loss: Any, target: Any) -> bool:
        """Whether ``loss`` last ran on this structure's output with ``target`` (0 and 0.0 differ)."""
        return self._last is not None and same_loss(self._last[0], loss) and self._last[1] == repr(target)

    def ran(self, loss: Any, target: Any) -> None:
        """Remember that ``loss`` ran with ``target``."""
        self._last = (weak(loss), repr(target))


_PROBED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> Probed (a model can be freed)


def probed(model: Any, structure: tuple | None, width: int) -> Probed | None:
    """What an earlier probe of this model learned, when its structure and the width are the same."""
    if structure is None:
        return None
    try:
        known = _PROBED.get(model)
    except TypeError:  # not weakly referenceable: never remembered
        return None
    return known if known is not None and known.structure == structure and known.width == width else None


def remember_probe(model: Any, known: Probed) -> None:
    """Keep ``known`` for the next fit on this model (silently not, for a model that cannot be weakly referenced)."""
    try:
        _PROBED[model] = known
    except TypeError:
        pass
